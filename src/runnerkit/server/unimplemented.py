"""The answer to a path that no service serves, in the caller's own protocol.

gRPC callers get ``grpc-status: 12`` (UNIMPLEMENTED) with a message, in trailers (HTTP/2) or
in a trailers-only response; gRPC-Web callers get it in a trailer frame; everyone else a
Connect JSON error, HTTP 404 ``unimplemented``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from connectrpc.code import Code

from runnerkit.server.asgi import send_json

if TYPE_CHECKING:
    from runnerkit.server.asgi import Scope, Send

_UNIMPLEMENTED = b"12"


def _content_type(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"content-type":
            return bytes(value).decode("latin-1").lower()
    return ""


async def send_unimplemented(scope: Scope, send: Send) -> None:
    """Answer ``unimplemented`` for ``scope["path"]`` in the request's protocol."""
    message = f"no such path {scope['path'][:200]}"
    content_type = _content_type(scope)
    status = [(b"grpc-status", _UNIMPLEMENTED), (b"grpc-message", quote(message).encode())]
    if content_type.startswith("application/grpc-web"):
        trailer = b"".join(k + b": " + v + b"\r\n" for k, v in status)
        body = b"\x80" + len(trailer).to_bytes(4, "big") + trailer
        headers = [
            (b"content-type", content_type.split(";")[0].encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
    elif content_type.startswith("application/grpc"):
        headers = [(b"content-type", b"application/grpc")]
        if "http.response.trailers" in scope.get("extensions", {}):
            start = {"type": "http.response.start", "status": 200, "trailers": True}
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            await send({"type": "http.response.trailers", "headers": status})
        else:  # trailers-only: the status in the headers
            start = {"type": "http.response.start", "status": 200, "headers": headers + status}
            await send(start)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    else:
        await send_json(send, 404, {"code": Code.UNIMPLEMENTED.value, "message": message}, [])
