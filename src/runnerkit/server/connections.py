"""uvicorn + zttp connection protocols with timeouts and a cap on open connections.

uvicorn 0.54's zttp protocols serve HTTP/1.1 and HTTP/2 on one port (prior-knowledge h2c is
told apart by its preface, TLS by ALPN) and support the ASGI trailers that gRPC needs. These
subclasses add what a server exposed to arbitrary clients needs (``docs/serving.md``):

- **idle timeout**: a connection with no request in flight is closed after ``idle`` seconds
  (HTTP/2: no open stream; frames such as PING do not keep it open);
- **header timeout**: the headers of a request must arrive within ``header`` seconds of its
  first byte (a half-sent request is closed);
- **body timeout**: a request body must be complete within ``body`` seconds of its headers
  (HTTP/1.1: the connection is closed; HTTP/2: only that stream is reset);
- **connection cap**: at most ``max_connections`` open connections, and never more than the
  process's file-descriptor limit allows (less a reserve for the database and logs). A new
  connection beyond the cap closes the oldest connection that has no request in flight, else
  it is closed itself. So idle sockets can never stop the server from accepting.
- An HTTP/1.1 request with ``Upgrade: h2c`` is served as HTTP/1.1 with its body (the upgrade
  is declined, which RFC 9113 allows): never on an unread body.
- **streams per HTTP/2 connection**: zttp 0.0.35 takes at most ``ZTTP_MAX_STREAMS`` (4096)
  streams on one connection and answers the next with ``GOAWAY(ENHANCE_YOUR_CALM)``, failing
  requests in flight — a gRPC client keeps one connection for its life, so it would meet this
  every 4096 calls. A connection is therefore drained before: after ``DRAIN_AFTER_STREAMS``
  streams it sends a graceful ``GOAWAY(NO_ERROR)`` with the highest stream id (clients open
  no new streams on it and go to a new connection), and ``GOAWAY_GRACE_S`` later the final
  ``GOAWAY`` naming the last stream taken; it closes when its last stream is done (the
  two-step shutdown of RFC 9113 §6.8, as Go's and nghttp2's servers do).

The limits live on ``ServerConfig`` (a ``uvicorn.Config``), so they reach every worker process.
"""

from __future__ import annotations

import resource
import time
from typing import TYPE_CHECKING, Any, cast

import uvicorn
from uvicorn.protocols.http.auto_zttp_impl import AutoZttpProtocol
from uvicorn.protocols.http.zttp_h2_impl import ZttpH2Protocol
from uvicorn.protocols.http.zttp_impl import ZttpProtocol

if TYPE_CHECKING:
    import asyncio

    import zttp
    from uvicorn.protocols.http.zttp_impl import RequestResponseCycle
    from uvicorn.server import ServerState

# File descriptors kept free for what is not a client connection: the listening socket,
# database files and connections, logs, the event loop's own.
FD_RESERVE = 64
_MIN_CONNECTIONS = 16
# Streams zttp 0.0.35 takes on one HTTP/2 connection (the next is a "flood": GOAWAY 0xb).
ZTTP_MAX_STREAMS = 4096
# When a connection starts draining: the rest is room for streams already on their way.
DRAIN_AFTER_STREAMS = ZTTP_MAX_STREAMS - 512
# Between the graceful GOAWAY and the final one: a round trip, with room to spare.
GOAWAY_GRACE_S = 1.0
_MAX_STREAM_ID = 2**31 - 1
_NO_ERROR = 0


class ServerConfig(uvicorn.Config):
    """``uvicorn.Config`` plus the connection limits of this module.

    Args:
        app: As for ``uvicorn.Config``.
        timeout_header: Seconds from a request's first byte to its complete headers.
        timeout_body: Seconds from a request's headers to its complete body.
        max_connections: Open connections at most (also bounded by the file limit).
        **kwargs: As for ``uvicorn.Config`` (``timeout_keep_alive`` is the idle timeout).
    """

    def __init__(
        self,
        app: Any,  # noqa: ANN401 - as uvicorn.Config's
        *,
        timeout_header: float,
        timeout_body: float,
        max_connections: int,
        **kwargs: Any,  # noqa: ANN401 - uvicorn.Config's own options
    ) -> None:
        super().__init__(app, **kwargs)
        self.timeout_header = timeout_header
        self.timeout_body = timeout_body
        self.max_connections = max_connections


def connection_cap(max_connections: int) -> int:
    """``max_connections``, lowered to what the soft ``RLIMIT_NOFILE`` leaves for sockets."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return max_connections
    return min(max_connections, max(_MIN_CONNECTIONS, soft - FD_RESERVE))


def _limits(config: uvicorn.Config) -> tuple[float, float, float]:
    """(idle, header, body) timeouts of ``config``."""
    if isinstance(config, ServerConfig):
        return float(config.timeout_keep_alive), config.timeout_header, config.timeout_body
    idle = float(config.timeout_keep_alive)
    return idle, idle, idle


class H1Protocol(ZttpProtocol):
    """zttp's HTTP/1.1 protocol with idle, header and body timeouts."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._idle_s, self._header_s, self._body_s = _limits(self.config)
        self._phase = ""
        self._deadline: asyncio.TimerHandle | None = None
        self.since = time.monotonic()

    def evictable(self) -> bool:
        """Whether no request is being handled (idle, or headers not complete)."""
        return self._phase in ("idle", "header")

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start with the idle timeout (a TLS connection arrives here before any byte)."""
        super().connection_made(transport)
        self._enter("idle")

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the timer."""
        self._cancel()
        super().connection_lost(exc)

    def _should_upgrade(self) -> bool:
        upgrade = self.conn.upgrade()
        if upgrade is not None and upgrade.lower() == b"h2c":
            return False  # declined: served as HTTP/1.1, body and all
        return super()._should_upgrade()

    def data_received(self, data: bytes) -> None:
        """Parse, then move to the phase the connection is in now."""
        before = self.cycle
        super().data_received(data)
        self._update(fallback="header", new_request=self.cycle is not before)

    def on_response_complete(self) -> None:
        """After a response: the next request (pipelined) or the idle timeout."""
        before = self.cycle
        super().on_response_complete()
        self._update(fallback="idle", new_request=self.cycle is not before)

    def _update(self, *, fallback: str, new_request: bool) -> None:
        if self.transport.is_closing():
            self._cancel()
            return
        cycle = cast("RequestResponseCycle | None", self.cycle)
        if cycle is not None and cycle.more_body:
            phase = "body"  # also when answered early: the rest of the body must still come
        elif cycle is not None and not cycle.response_complete:
            phase = "busy"
        else:
            phase = fallback
        if phase != self._phase or (new_request and phase == "body"):
            self._enter(phase)

    def _enter(self, phase: str) -> None:
        self._cancel()
        self._phase = phase
        self.since = time.monotonic()
        seconds = {"idle": self._idle_s, "header": self._header_s, "body": self._body_s}.get(phase)
        if seconds is not None:
            self._deadline = self.loop.call_later(seconds, self._expire)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class H2Protocol(ZttpH2Protocol):
    """zttp's HTTP/2 protocol with an idle timeout, a per-stream body timeout and a drain.

    The drain (see the module docstring) keeps a long-lived connection under zttp's stream
    limit: clients move to a new connection instead of seeing their calls fail.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._idle_s, _, self._body_s = _limits(self.config)
        self._idle: asyncio.TimerHandle | None = None
        self.since = time.monotonic()
        self.streams = 0
        self._last_stream_id = 0
        self._drain: asyncio.TimerHandle | None = None

    def evictable(self) -> bool:
        """Whether no stream is open."""
        return not self.cycles

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the idle timeout."""
        super().connection_made(transport)
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the timers."""
        self._cancel_idle()
        if self._drain is not None:
            self._drain.cancel()
            self._drain = None
        super().connection_lost(exc)

    def handle_request(self, event: zttp.Request) -> None:
        """A new stream: not idle; its body must arrive within the body timeout."""
        super().handle_request(event)
        self._cancel_idle()
        self.loop.call_later(self._body_s, self._expire_body, event.stream_id)
        self.streams += 1
        self._last_stream_id = max(self._last_stream_id, event.stream_id)
        if self.streams == DRAIN_AFTER_STREAMS and not self.shutdown_requested:
            self._start_drain()

    def _start_drain(self) -> None:
        """The graceful GOAWAY: no new streams, please; the final one follows."""
        self.conn.close(_NO_ERROR, _MAX_STREAM_ID)
        self.flush()
        self._drain = self.loop.call_later(GOAWAY_GRACE_S, self._finish_drain)

    def _finish_drain(self) -> None:
        """The final GOAWAY (the last stream taken); close once the open streams are done."""
        self._drain = None
        if self.transport.is_closing():
            return
        self.conn.close(_NO_ERROR, self._last_stream_id)
        self.flush()
        self.shutdown()

    def on_stream_closed(self) -> None:
        """The last stream closed: the connection is idle from now."""
        super().on_stream_closed()
        if not self.cycles and self._idle is None and not self.transport.is_closing():
            self._arm_idle()

    def _expire_body(self, stream_id: int) -> None:
        cycle = self.cycles.get(stream_id)
        if cycle is None or not cycle.more_body or cycle.disconnected:
            return
        cycle.abort_stream()  # RST_STREAM for this stream only; its siblings go on
        cycle.message_event.set()

    def _arm_idle(self) -> None:
        self.since = time.monotonic()
        self._idle = self.loop.call_later(self._idle_s, self._expire_idle)

    def _cancel_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _expire_idle(self) -> None:
        self._idle = None
        if not self.cycles:
            self._close_connection()


class AutoProtocol(AutoZttpProtocol):
    """Picks HTTP/1.1 or HTTP/2 per connection (ALPN or the h2c preface); caps connections."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limit = getattr(self.config, "max_connections", None)
        self._cap = connection_cap(limit) if isinstance(limit, int) else None
        self.since = time.monotonic()

    def evictable(self) -> bool:
        """Nothing has been read yet (or only part of the HTTP/2 preface)."""
        return True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Make room under the cap (closing the oldest idle connection), then go on."""
        if self._cap is not None and not self._make_room():
            transport.close()
            return
        super().connection_made(transport)

    def _make_room(self) -> bool:
        live = [c for c in self.connections if not c.transport.is_closing()]
        if len(live) < self._cap:  # type: ignore[operator]
            return True
        idle = [c for c in live if getattr(c, "evictable", lambda: False)()]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: getattr(c, "since", 0.0))
        oldest.transport.close()
        return True

    def _switch(self, http2: bool, initial_data: bytes = b"") -> None:
        protocol_class = H2Protocol if http2 else H1Protocol
        protocol = protocol_class(
            config=self.config,
            server_state=self.server_state,
            app_state=self.app_state,
            _loop=self.loop,
        )
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        if initial_data:
            protocol.data_received(initial_data)
