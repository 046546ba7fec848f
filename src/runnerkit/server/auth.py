"""Bearer-token authentication as a metadata interceptor, run before the body is read.

The interceptor looks up ``Authorization: Bearer <token>`` by hash and puts the subject into a
context variable for the handler (``current_subject``). Missing, malformed or unknown tokens
get ``unauthenticated`` with the same message, so the answer tells nothing about which.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from typing import TYPE_CHECKING

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from runnerkit.server.crypto import hash_token

if TYPE_CHECKING:
    from connectrpc.request import RequestContext

    from runnerkit.server.storage.base import Store, SubjectRecord

_subject: contextvars.ContextVar[SubjectRecord | None] = contextvars.ContextVar(
    "runnerkit_subject", default=None
)
_UNAUTHENTICATED = "missing or invalid bearer token"
_MAX_TOKEN = 512


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN:
        return None
    return token


class AuthInterceptor:
    """Metadata interceptor: authenticate the caller or answer ``unauthenticated``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def on_start(
        self, ctx: RequestContext[object, object]
    ) -> contextvars.Token[SubjectRecord | None]:
        """Resolve the caller from the Authorization header."""
        token = bearer_token(ctx.request_headers.get("authorization"))
        if token is None:
            raise ConnectError(Code.UNAUTHENTICATED, _UNAUTHENTICATED)
        subject = await asyncio.to_thread(self._store.subject_for_token, hash_token(token))
        if subject is None:
            raise ConnectError(Code.UNAUTHENTICATED, _UNAUTHENTICATED)
        return _subject.set(subject)

    async def on_end(
        self,
        token: contextvars.Token[SubjectRecord | None],
        ctx: RequestContext[object, object],
        error: Exception | None,
        /,
    ) -> None:
        """Forget the caller."""
        with contextlib.suppress(ValueError):  # reset from another context: nothing to undo
            _subject.reset(token)


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
