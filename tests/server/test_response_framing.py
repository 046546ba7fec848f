"""The one ASGI layer gives a body sent in one piece its ``content-length`` (no chunking).

Driven with small ASGI apps behind ``CompatibilityMiddleware``: what reaches the server's
``send`` is compared message by message.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from runnerkit.server.access_log import AccessLog
from runnerkit.server.middleware import CompatibilityMiddleware

if TYPE_CHECKING:
    from runnerkit.server.asgi import Message, Receive, Send


def _app(*messages: Message):
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    return app


def _run(app: Any, method: str = "POST") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": "/x",
        "headers": [(b"content-type", b"application/proto")],
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
