"""Bearer-token authentication as a metadata interceptor, run before the body is read.

The interceptor looks up ``Authorization: Bearer <token>`` by hash and puts the subject into a
context variable for the handler (``current_subject``). Missing, malformed or unknown tokens
get ``unauthenticated`` with the same message, so the answer tells nothing about which.

Known tokens are remembered for ``SUBJECT_CACHE_TTL_S`` seconds (``SubjectCache``): a caller's
next requests skip the database read. A look-up is a short read (``handlers/execution.py``):
on the event loop for SQLite, on the store pool for PostgreSQL. The price: a change to a subject's groups or flags (``runnerkit
admin``) reaches requests made with an already-seen token within that time. Unknown tokens are
never cached, so a new token works at once.
"""

from __future__ import annotations

import contextvars
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from runnerkit.server.crypto import hash_token
from runnerkit.server.handlers.execution import Executor, Runs

if TYPE_CHECKING:
    from collections.abc import Callable

    from connectrpc.request import RequestContext

    from runnerkit.server.storage.base import Store, SubjectRecord

_subject: contextvars.ContextVar[SubjectRecord | None] = contextvars.ContextVar(
    "runnerkit_subject", default=None
)
_UNAUTHENTICATED = "missing or invalid bearer token"
_MAX_TOKEN = 512
SUBJECT_CACHE_TTL_S = 2.0
SUBJECT_CACHE_SIZE = 4096


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, or None."""
    if not authorization:
        return None
    if authorization.startswith("Bearer "):  # the usual form: no stripping or case folding
        token = authorization[7:]
        if token and not token[0].isspace() and not token[-1].isspace():
            return token if len(token) <= _MAX_TOKEN else None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN:
        return None
    return token


class SubjectCache:
    """Subjects of recently seen token hashes, each kept for ``ttl_s`` seconds (LRU-bounded).

    Args:
        ttl_s: How long an entry stays valid; 0 disables the cache.
        max_entries: The most entries kept; the least recently used go first.
        clock: Monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        ttl_s: float = SUBJECT_CACHE_TTL_S,
        max_entries: int = SUBJECT_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, SubjectRecord]] = OrderedDict()

    def get(self, token_hash: str) -> SubjectRecord | None:
        """The cached subject of ``token_hash``, or None when absent or expired."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        expires, subject = entry
        if self._clock() >= expires:
            del self._entries[token_hash]
            return None
        self._entries.move_to_end(token_hash)
        return subject

    def put(self, token_hash: str, subject: SubjectRecord) -> None:
        """Remember ``subject`` for ``token_hash``."""
        if self._ttl <= 0:
            return
        self._entries[token_hash] = (self._clock() + self._ttl, subject)
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class AuthInterceptor:
    """Metadata interceptor: authenticate the caller or answer ``unauthenticated``.

    Args:
        store: Where tokens are looked up (by hash).
        cache: Recently seen tokens' subjects; a fresh ``SubjectCache`` by default.
        executor: Runs the token look-up as a short read (on the event loop for SQLite, see
            ``handlers/execution.py``); by default the policy for ``store``.
    """

    def __init__(
        self, store: Store, cache: SubjectCache | None = None, *, executor: Executor | None = None
    ) -> None:
        self._store = store
        self._cache = cache if cache is not None else SubjectCache()
        self._lookup = (executor or Executor.for_store(store)).runner(Runs.READ)

    async def on_start(
        self, ctx: RequestContext[object, object]
    ) -> contextvars.Token[SubjectRecord | None]:
        """Resolve the caller from the Authorization header."""
        token = bearer_token(ctx.request_headers.get("authorization"))
        if token is None:
            raise ConnectError(Code.UNAUTHENTICATED, _UNAUTHENTICATED)
        token_hash = hash_token(token)
        subject = self._cache.get(token_hash)
        if subject is None:
            subject = await self._lookup(self._store.subject_for_token, token_hash)
            if subject is None:
                raise ConnectError(Code.UNAUTHENTICATED, _UNAUTHENTICATED)
            self._cache.put(token_hash, subject)
        return _subject.set(subject)

    async def on_end(
        self,
        token: contextvars.Token[SubjectRecord | None],
        ctx: RequestContext[object, object],
        error: Exception | None,
        /,
    ) -> None:
        """Forget the caller."""
        try:  # noqa: SIM105 - suppress() costs a context manager on every call
            _subject.reset(token)
        except ValueError:  # reset from another context: nothing to undo
            pass


def current_subject() -> SubjectRecord:
    """The authenticated caller of the RPC being served.

    Returns:
        The subject.

    Raises:
        ConnectError: ``unauthenticated`` when called outside an authenticated RPC.
    """
    subject = _subject.get()
    if subject is None:
        raise ConnectError(Code.UNAUTHENTICATED, _UNAUTHENTICATED)
    return subject
