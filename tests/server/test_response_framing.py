"""The one ASGI layer gives a body sent in one piece its ``content-length`` (no chunking),
and gzips large Connect answers for clients that take gzip (small ones go as they are).

Driven with small ASGI apps behind ``CompatibilityMiddleware``: what reaches the server's
``send`` is compared message by message.
"""

from __future__ import annotations

import asyncio
import gzip
from typing import TYPE_CHECKING, Any

import pytest

from runnerkit.server.access_log import AccessLog
from runnerkit.server.middleware import GZIP_MIN_BYTES, CompatibilityMiddleware

if TYPE_CHECKING:
    from runnerkit.server.asgi import Message, Receive, Send


def _app(*messages: Message):
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    return app


def _run(app: Any, method: str = "POST", accept_encoding: bytes = b"") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": "/x",
        "headers": [(b"content-type", b"application/proto")]
        + ([(b"accept-encoding", accept_encoding)] if accept_encoding else []),
        "query_string": b"",
    }
    layer = CompatibilityMiddleware(app, [], access_log=AccessLog())
    asyncio.run(layer(scope, receive, send))
    return sent


def _start(status: int = 200, *headers: tuple[bytes, bytes], **extra: Any) -> Message:
    return {"type": "http.response.start", "status": status, "headers": list(headers), **extra}


def _body(body: bytes, *, more: bool = False) -> Message:
    return {"type": "http.response.body", "body": body, "more_body": more}


CT = (b"content-type", b"application/proto")


def test_a_body_in_one_piece_gets_its_length():
    sent = _run(_app(_start(200, CT), _body(b"\n\x04abcd")))
    assert sent == [_start(200, CT, (b"content-length", b"6")), _body(b"\n\x04abcd")]


def test_an_empty_body_gets_length_zero():
    sent = _run(_app(_start(200, CT), _body(b"")))
    assert sent[0]["headers"] == [CT, (b"content-length", b"0")]


def test_a_streamed_body_passes_as_it_comes():
    messages = (_start(200, CT), _body(b"a", more=True), _body(b"b", more=True), _body(b""))
    assert _run(_app(*messages)) == list(messages)


def test_a_start_with_a_length_or_trailers_is_not_held_or_changed():
    with_length = (_start(200, CT, (b"content-length", b"1")), _body(b"a"))
    assert _run(_app(*with_length)) == list(with_length)
    grpc = (
        _start(200, (b"content-type", b"application/grpc"), trailers=True),
        _body(b"\x00\x00\x00\x00\x00"),
        {"type": "http.response.trailers", "headers": [(b"grpc-status", b"0")]},
    )
    assert _run(_app(*grpc)) == list(grpc)


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("POST", 204), ("GET", 304)])
def test_no_length_where_the_body_is_not_the_resource(method, status):
    messages = (_start(status, CT), _body(b""))
    assert _run(_app(*messages), method) == list(messages)


def test_an_error_gets_its_length_and_should_retry():
    body = b'{"code": "not_found", "message": "runner not found"}'
    sent = _run(_app(_start(404, (b"content-type", b"application/json")), _body(body)))
    assert sent[0]["headers"] == [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-should-retry", b"false"),
    ]
    assert sent[1] == _body(body)


def test_an_error_in_pieces_is_joined_and_its_length_replaced():
    start = _start(503, (b"content-length", b"999"))
    sent = _run(_app(start, _body(b'{"code": ', more=True), _body(b'"unavailable"}')))
    assert sent[0]["headers"] == [(b"content-length", b"23")]  # retryable: no x-should-retry
    assert sent[1] == _body(b'{"code": "unavailable"}')


def test_another_message_while_held_goes_after_the_start():
    other = {"type": "http.response.zerocopysend", "file": 3}
    sent = _run(_app(_start(200, CT), other))
    assert sent == [_start(200, CT), other]


CONNECT = (b"content-type", b"application/proto")
IDENTITY = (b"content-encoding", b"identity")
LARGE = bytes(range(256)) * (GZIP_MIN_BYTES // 256) + b"x" * 10


def _seen_by_app(accept_encoding: bytes) -> list[tuple[bytes, bytes]]:
    seen: list[list[tuple[bytes, bytes]]] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        seen.append(scope["headers"])
        await send(_start(200, CONNECT, IDENTITY))
        await send(_body(b""))

    _run(app, accept_encoding=accept_encoding)
    return seen[0]


def test_a_large_connect_answer_is_gzipped_for_a_client_that_takes_gzip():
    sent = _run(_app(_start(200, CONNECT, IDENTITY), _body(LARGE)), accept_encoding=b"gzip")
    assert sent[0]["headers"][0] == CONNECT
    assert (b"content-encoding", b"gzip") in sent[0]["headers"]
    assert IDENTITY not in sent[0]["headers"]
    assert (b"content-length", str(len(sent[1]["body"])).encode()) in sent[0]["headers"]
    assert gzip.decompress(sent[1]["body"]) == LARGE


@pytest.mark.parametrize(
    ("accept", "size"),
    [
        (b"gzip", GZIP_MIN_BYTES - 1),  # too small to be worth it
        (b"", GZIP_MIN_BYTES * 4),  # no Accept-Encoding
        (b"identity, gzip", GZIP_MIN_BYTES * 4),  # identity preferred
        (b"gzip;q=0.5", GZIP_MIN_BYTES * 4),  # as connectrpc: q-values are not read
    ],
)
def test_otherwise_the_answer_goes_as_it_is(accept, size):
    body = b"y" * size
    sent = _run(_app(_start(200, CONNECT, IDENTITY), _body(body)), accept_encoding=accept)
    assert sent == [
        _start(200, CONNECT, IDENTITY, (b"content-length", str(size).encode())),
        _body(body),
    ]


def test_only_connect_answers_not_yet_encoded_are_gzipped():
    for start in (
        _start(200, (b"content-type", b"text/plain"), IDENTITY),  # not Connect
        _start(200, CONNECT, (b"content-encoding", b"gzip")),  # encoded already
        _start(200, CONNECT),  # no encoding named: not connectrpc's unary answer
    ):
        sent = _run(_app(start, _body(LARGE)), accept_encoding=b"gzip")
        assert sent[1]["body"] == LARGE
        assert sent[0]["headers"][:-1] == start["headers"]
    error = _start(400, (b"content-type", b"application/json"))
    sent = _run(_app(error, _body(b"{}" + b" " * GZIP_MIN_BYTES)), accept_encoding=b"gzip")
    assert sent[1]["body"].startswith(b"{}")


def test_connectrpc_never_sees_an_accept_encoding_the_layer_answers():
    assert _seen_by_app(b"gzip, identity") == [CT]
    assert _seen_by_app(b"identity") == [CT, (b"accept-encoding", b"identity")]
