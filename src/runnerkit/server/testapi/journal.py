"""The request journal: one entry per RPC call, newest last, never a token or a secret.

:class:`JournalInterceptor` is a metadata interceptor placed first, so it also sees calls that
fail authentication; :class:`HookInterceptor` (after authentication) notes the caller's subject
id on the entry and applies injected faults (``faults.py``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectrpc.errors import ConnectError

from runnerkit.server.auth import current_subject
from runnerkit.server.testapi.faults import fault_error

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator
    from datetime import datetime

    from connectrpc.request import RequestContext

    from runnerkit.server.testapi.clock import TestClock
    from runnerkit.server.testapi.faults import Faults

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class JournalEntry:
    """One call: what was called, how, by whom, how it ended and when.

    Attributes:
        rpc: The method name, e.g. ``"GetRunner"``.
        service: The service's full name, e.g. ``"gitpod.v1.RunnerService"``.
        protocol: ``"connect"``, ``"grpc"`` or ``"grpc-web"``.
        code: ``"ok"`` or the Connect error code (``"not_found"``, ...).
        subject_id: The authenticated caller's id ("" when authentication failed).
        duration_s: Seconds from the start of the call to its end.
        time: When the call started, on the server's clock (aware UTC).
    """

    rpc: str
    service: str
    protocol: str
    code: str
    subject_id: str
    duration_s: float
    time: datetime

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (``time`` as RFC 3339)."""
        return {
            "rpc": self.rpc,
            "service": self.service,
            "protocol": self.protocol,
            "code": self.code,
            "subject_id": self.subject_id,
            "duration_s": self.duration_s,
            "time": self.time.isoformat().replace("+00:00", "Z"),
        }


class Journal:
    """The calls a server answered, newest last (at most ``MAX_ENTRIES``); thread-safe.

    A call is recorded only if it started after the last :meth:`clear`: a call still in flight
    when a test ends (say, one its client gave up on) must not appear in the journal of the
    next test, which starts with a clear. Calls note :attr:`generation` when they start and
    pass it to :meth:`append`.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: collections.deque[JournalEntry] = collections.deque(maxlen=max_entries)
        self._lock = threading.Lock()
        self._generation = 0

    @property
    def generation(self) -> int:
        """How many times the journal has been cleared (a call's ``started_in``)."""
        return self._generation

    def append(self, entry: JournalEntry, started_in: int | None = None) -> None:
        """Record a call, unless the journal was cleared after it started.

        Args:
            entry: The call.
            started_in: :attr:`generation` when the call started; None records it regardless.
        """
        with self._lock:
            if started_in is None or started_in == self._generation:
                self._entries.append(entry)

    def entries(self) -> list[JournalEntry]:
        """A copy of the entries, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry, and the calls in flight (they will not be recorded)."""
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __getitem__(self, index: int) -> JournalEntry:
        return self.entries()[index]


@dataclass
class _Call:
    started: float
    at: datetime
    generation: int
    subject_id: str = ""


_call: contextvars.ContextVar[_Call | None] = contextvars.ContextVar(
    "runnerkit_test_call", default=None
)


def protocol_of(ctx: RequestContext[Any, Any]) -> str:
    """The wire protocol of a call, from its content type."""
    content_type = (ctx.request_headers.get("content-type") or "").lower()
    if content_type.startswith("application/grpc-web"):
        return "grpc-web"
    if content_type.startswith("application/grpc"):
        return "grpc"
    return "connect"


def _code_of(error: Exception | None) -> str:
    if error is None:
        return "ok"
    if isinstance(error, ConnectError):
        return str(error.code.value)
    return "internal"


class JournalInterceptor:
    """Metadata interceptor (first in the chain): one journal entry per call."""

    def __init__(self, journal: Journal, clock: TestClock) -> None:
        self._journal = journal
        self._clock = clock

    async def on_start(self, ctx: RequestContext[Any, Any]) -> contextvars.Token[_Call | None]:
        """Start timing the call."""
        call = _Call(time.perf_counter(), self._clock.now(), self._journal.generation)
        return _call.set(call)

    async def on_end(
        self,
        token: contextvars.Token[_Call | None],
        ctx: RequestContext[Any, Any],
        error: Exception | None,
        /,
    ) -> None:
        """Record the call."""
        call = _call.get()
        if call is None:
            return
        self._journal.append(
            JournalEntry(
                rpc=ctx.method.name,
                service=ctx.method.service_name,
                protocol=protocol_of(ctx),
                code=_code_of(error),
                subject_id=call.subject_id,
                duration_s=time.perf_counter() - call.started,
                time=call.at,
            ),
            started_in=call.generation,
        )
        with contextlib.suppress(ValueError):  # reset from another context: nothing to undo
            _call.reset(token)


class HookInterceptor:
    """Unary interceptor after authentication: note the caller, then apply faults."""

    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    async def intercept_unary(
        self,
        call_next: Callable[[Any, RequestContext[Any, Any]], Awaitable[Any]],
        request: Any,  # noqa: ANN401 - any request message
        ctx: RequestContext[Any, Any],
        /,
    ) -> Any:  # noqa: ANN401 - any response message
        """Record the subject, wait and fail as a matching fault says, else go on."""
        call = _call.get()
        if call is not None:
            call.subject_id = current_subject().id
        fault = self._faults.pick(ctx.method.name)
        if fault is not None:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            error = fault_error(fault)
            if error is not None:
                raise error
        return await call_next(request, ctx)
