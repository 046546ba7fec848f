"""The server's one ASGI layer: the compatibility contracts (docs/server.md) and the access log.

``CompatibilityMiddleware`` wraps the router and touches only what it must:

- request bodies over 4 MiB (by ``Content-Length``) → ``resource_exhausted`` without parsing
  them (drained up to 64 MiB so that the client reads the answer; the service apps also stop
  reading a streamed body at 4 MiB, and inflating a gzip body past 4 MiB);
- header values that are not UTF-8 are passed on re-encoded (``http_input.read_headers``);
- gRPC and binary gRPC-Web requests of the gitpod.v1 services: gRPC without ``te: trailers``
  (no status could reach the client) and a frame flagged compressed without a
  ``grpc-encoding`` (connectrpc: INTERNAL; watched as the body streams in) are
  ``invalid_argument``;
- for JSON calls of RPCs with a ``pagination`` field, ``token`` and ``pageSize`` in the URL
  query string override the body's ``pagination`` (the reference's SDK sends them there;
  ``pageSize`` parsed strictly by ``http_input.parse_page_size``); the body is read and
  rewritten only then;
- error responses whose code will not succeed on a retry (all but ``unavailable``,
  ``resource_exhausted``, ``deadline_exceeded``, ``aborted``) get ``x-should-retry: false``:
  only a response with an HTTP error status is held until its body names the code;
- a response body sent in one piece gets its ``content-length`` (connectrpc sends none, so
  HTTP/1.1 would frame it chunked: one more write for the server, one more read for the
  client); a streamed body passes as it comes;
- Connect answers are gzipped here, not by connectrpc, and only from ``GZIP_MIN_BYTES`` up:
  the ``Accept-Encoding`` of a client that takes gzip (``http_input.accepts_gzip``) is kept
  from connectrpc, which then answers ``identity``, and a large answer is compressed on its
  way out (a few hundred bytes cost more to compress and inflate than they save);
- one access log line per HTTP request (``server/access_log.py``: ``key=value`` fields, never
  headers, query strings or bodies); nothing is formatted when the access logger is off.

Requests without ``Connect-Protocol-Version`` need nothing here: connectrpc accepts them.
"""

from __future__ import annotations

import gzip
import json
import time
import zlib
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote

from connectrpc.code import Code

from runnerkit.server.access_log import AccessLog, access_line
from runnerkit.server.asgi import read_body, send_json
from runnerkit.server.domain.errors import InvalidArgumentError
from runnerkit.server.errors import RETRYABLE_CODES
from runnerkit.server.http_input import (
    CompressedFrameScanner,
    accepts_gzip,
    grpc_without_trailers,
    is_binary_grpc,
    needs_frame_scan,
    parse_page_size,
    read_headers,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from runnerkit.server.asgi import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 4 * 1024 * 1024
# Connect answers at least this large are gzipped for clients that take gzip; smaller ones
# cost more time to compress and inflate than the bytes save (connect-go's compressMinBytes).
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6  # connectrpc's
_DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
_RETRYABLE_STATUSES = frozenset({429, 503, 504})
_RETRYABLE_NAMES = frozenset(code.value for code in RETRYABLE_CODES)
# The gRPC checks apply to gitpod.v1's unary RPCs only (not to gRPC reflection's streams).
_UNARY_SERVICES = "/gitpod.v1."


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _gunzip(data: bytes, limit: int) -> bytes | None:
    """Inflate a gzip body, stopping just past ``limit`` bytes; None when it is not gzip."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        return None
    if len(out) <= limit and not inflater.eof:
        return None
    return out


def _without(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != name]


def _error(code: Code, message: str) -> dict[str, str]:
    return {"code": code.value, "message": message}


class CompatibilityMiddleware:
    """The compatibility contracts (docs/server.md) and the access log, around the router.

    Args:
        app: The router.
        paginated_paths: URL paths of the RPCs with a ``pagination`` field.
        access_log: Where access lines go; ``AccessLog()`` (the ``logging`` logger) by default.
    """

    def __init__(
        self, app: ASGIApp, paginated_paths: Iterable[str], access_log: AccessLog | None = None
    ) -> None:
        self._app = app
        self._paginated = frozenset(paginated_paths)
        self._access_log = access_log if access_log is not None else AccessLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            try:
                await self._app(scope, receive, send)
            finally:
                self._access_log.flush()  # lifespan: the server stops
            return
        started = time.perf_counter()
        response = _Response(send, bodyless=scope["method"] == "HEAD")
        try:
            await self._contracts(scope, receive, response)
        finally:
            log = self._access_log
            if log.enabled():
                log.write(
                    access_line(
                        scope["method"],
                        scope["path"],
                        response.status or 500,
                        response.code,
                        time.perf_counter() - started,
                    )
                )

    async def _contracts(self, scope: Scope, receive: Receive, send: _Response) -> None:
        headers, length, content_type, accept_encoding = read_headers(scope["headers"])
        if headers is not None:
            scope = {**scope, "headers": headers}  # connectrpc reads values as UTF-8
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            if int(length) <= _DRAIN_LIMIT_BYTES:
                await _drain(receive)  # so that clients read the answer, not a reset
            await send_json(
                send, 429, _error(Code.RESOURCE_EXHAUSTED, "request body larger than 4 MiB"), []
            )
            return
        if is_binary_grpc(content_type) and scope["path"].startswith(_UNARY_SERVICES):
            await self._grpc(scope, receive, send, content_type)
            return
        if accept_encoding and accepts_gzip(accept_encoding):
            # The layer compresses Connect answers itself, and only large ones.
            scope = {**scope, "headers": _without(scope["headers"], b"accept-encoding")}
            send.gzip = True
        if (
            scope.get("query_string")
            and scope["method"] == "POST"
            and scope["path"] in self._paginated
            and content_type.split(";")[0].strip() == "application/json"
        ):
            query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
            if "token" in query or "pageSize" in query:
                await self._override_pagination(scope, receive, send, query)
                return
        await self._app(scope, receive, send)

    async def _grpc(self, scope: Scope, receive: Receive, send: Send, content_type: str) -> None:
        """Refuse gRPC without ``te: trailers`` and compressed frames without ``grpc-encoding``."""
        if grpc_without_trailers(content_type, _header(scope, b"te")):
            message = "gRPC requests must carry te: trailers"
            await _send_grpc_status(send, content_type, Code.INVALID_ARGUMENT, message)
            return
        if not needs_frame_scan(content_type, _header(scope, b"grpc-encoding")):
            await self._app(scope, receive, send)
            return
        guard = _FrameGuard(receive, send, content_type)
        await self._app(scope, guard.receive, guard.send)

    async def _override_pagination(
        self, scope: Scope, receive: Receive, send: Send, query: dict[str, list[str]]
    ) -> None:
        body = await read_body(receive, MAX_BODY_BYTES)
        if body is None:
            await send_json(
                send, 429, _error(Code.RESOURCE_EXHAUSTED, "request body larger than 4 MiB"), []
            )
            return
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        if _header(scope, b"content-encoding").lower() == "gzip":
            inflated = _gunzip(body, MAX_BODY_BYTES)
            if inflated is None:
                await send_json(send, 400, _error(Code.INVALID_ARGUMENT, "invalid gzip body"), [])
                return
            if len(inflated) > MAX_BODY_BYTES:
                await send_json(
                    send,
                    429,
                    _error(Code.RESOURCE_EXHAUSTED, "request body larger than 4 MiB"),
                    [],
                )
                return
            body = inflated
            headers = [(k, v) for k, v in headers if k.lower() != b"content-encoding"]
        try:
            message = json.loads(body or b"{}")
        except (ValueError, RecursionError):
            message = None  # the service's codec answers it
        if isinstance(message, dict):
            pagination = message.get("pagination")
            if not isinstance(pagination, dict):
                pagination = message["pagination"] = {}
            if "token" in query:
                pagination["token"] = query["token"][-1]
            if "pageSize" in query:
                try:
                    pagination["pageSize"] = parse_page_size(query["pageSize"][-1])
                except InvalidArgumentError as exc:
                    await send_json(send, 400, _error(Code.INVALID_ARGUMENT, exc.message), [])
                    return
            try:
                body = json.dumps(message).encode()
            except RecursionError:
                await send_json(
                    send,
                    400,
                    _error(Code.INVALID_ARGUMENT, "request body is nested too deeply"),
                    [],
                )
                return
        headers.append((b"content-length", str(len(body)).encode()))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self._app({**scope, "headers": headers}, replay, send)


_GRPC_STATUS = {Code.INVALID_ARGUMENT: b"3"}


class _FrameGuard:
    """``receive``/``send`` for a gRPC app: answers a compressed frame without an encoding.

    The body streams through a :class:`CompressedFrameScanner`; when it finds such a frame
    before the app has answered, the guard answers ``invalid_argument`` itself, tells the app
    the client is gone, and drops whatever the app sends after.
    """

    def __init__(self, receive: Receive, send: Send, content_type: str) -> None:
        self._receive = receive
        self._send = send
        self._content_type = content_type
        self._scanner = CompressedFrameScanner()
        self._started = False
        self._answered = False

    async def receive(self) -> Message:
        if self._answered:
            return {"type": "http.disconnect"}
        message = await self._receive()
        body = message.get("body", b"") if message["type"] == "http.request" else b""
        if not self._started and self._scanner.feed(body):
            self._answered = True
            text = "compressed message without grpc-encoding"
            await _send_grpc_status(self._send, self._content_type, Code.INVALID_ARGUMENT, text)
            return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self._answered:
            return
        self._started = True
        await self._send(message)


async def _send_grpc_status(send: Send, content_type: str, code: Code, message: str) -> None:
    """A trailers-only gRPC or gRPC-Web answer: HTTP 200, status and message in the headers."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"grpc-status", _GRPC_STATUS[code]),
                (b"grpc-message", quote(message).encode()),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class _Response:
    """Wraps ``send``: notes the status; gives a body sent in one piece its ``content-length``.

    connectrpc sends a unary answer as a start without ``content-length`` and then the whole
    body; passed on like that, an HTTP/1.1 server frames it chunked (one more write and one
    more read per call). So a start without a length (and without trailers: gRPC's) is held
    until the first body message: when that is the whole body, the start goes out with its
    length; when more follows, both go out as they are. The body of an error names the
    Connect code: ``x-should-retry: false`` is added when a retry cannot help.
    """

    __slots__ = ("_bodyless", "_chunks", "_held", "_send", "code", "gzip", "status")

    def __init__(self, send: Send, *, bodyless: bool = False) -> None:
        self._send = send
        self._bodyless = bodyless  # HEAD: the length would not be the body's
        self._held: Message | None = None
        self._chunks: list[bytes] = []
        self.status = 0
        self.code = ""
        self.gzip = False
        """The client takes gzip: a Connect answer of ``GZIP_MIN_BYTES`` or more is gzipped."""

    async def __call__(self, message: Message) -> None:
        held = self._held
        if held is None:
            if message["type"] == "http.response.start":
                self.status = status = message.get("status", 200)
                if status >= 400 or (
                    not self._bodyless
                    and status not in _NO_BODY_STATUSES
                    and not message.get("trailers", False)
                    and not _has_length(message.get("headers", ()))
                ):
                    self._held = message
                    return
            await self._send(message)
            return
        if message["type"] != "http.response.body":  # an extension's message: as it comes
            self._held = None
            await self._send(held)
            await self._send(message)
            return
        body = message.get("body", b"")
        if held["status"] < 400:
            self._held = None
            if message.get("more_body", False):  # a stream: as it comes
                await self._send(held)
                await self._send(message)
                return
            if self.gzip and len(body) >= GZIP_MIN_BYTES and _connect_identity(held):
                body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
                held = {**held, "headers": _without(held["headers"], b"content-encoding")}
                held["headers"].append((b"content-encoding", b"gzip"))
                message = {**message, "body": body}
            await self._send(_with_length(held, len(body)))
            await self._send(message)
            return
        self._chunks.append(body)
        if message.get("more_body", False):
            return
        self._held = None
        body = b"".join(self._chunks)
        self.code = _error_code(body)
        start = _with_length(held, len(body))
        if not self._retryable(held["status"]):
            start["headers"].append((b"x-should-retry", b"false"))
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body, "more_body": False})

    def _retryable(self, status: int) -> bool:
        if self.code:
            return self.code in _RETRYABLE_NAMES
        return status in _RETRYABLE_STATUSES


_NO_BODY_STATUSES = frozenset({204, 304})
_CONNECT_UNARY_TYPES = frozenset({b"application/proto", b"application/json"})


def _connect_identity(start: Message) -> bool:
    """Whether a start is a Connect unary answer's, not compressed (connectrpc's headers)."""
    kind = encoding = b""
    for key, value in start.get("headers", ()):
        if key == b"content-type":
            kind = value
        elif key == b"content-encoding":
            encoding = value
    return encoding == b"identity" and kind in _CONNECT_UNARY_TYPES


def _has_length(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return any(key.lower() == b"content-length" for key, _ in headers)


def _with_length(start: Message, length: int) -> Message:
    """A copy of a response start with ``content-length`` (replacing any it had)."""
    headers = _without(start.get("headers", ()), b"content-length")
    headers.append((b"content-length", str(length).encode()))
    return {**start, "headers": headers}


def _error_code(body: bytes) -> str:
    """The ``code`` of a Connect JSON error body, or ""."""
    try:
        code = json.loads(body).get("code") if body else None
    except (ValueError, AttributeError, RecursionError):
        code = None
    return code if isinstance(code, str) else ""
