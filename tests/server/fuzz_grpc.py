"""A bare HTTP/2 (h2c, prior knowledge) client for the fuzz test's gRPC mode.

``h2_call(base_url, path, headers, body)`` sends one request on a new connection exactly as
given — any framing, any flags — and returns the status, headers, body and trailers, which
``fuzz_protocols.check`` judges. No gRPC library would send malformed frames.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.events

_TIMEOUT_S = 30.0


@dataclass
class H2Answer:
    """What came back on the stream (``reset`` when the server reset it)."""

    status_code: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    trailers: dict[str, str] = field(default_factory=dict)
    reset: bool = False


def _text(pairs: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1") for k, v in pairs}


def h2_call(base_url: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> H2Answer:
    """One POST over cleartext HTTP/2 with prior knowledge; the whole answer."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    answer = H2Answer()
    body_parts = bytearray()
    with socket.create_connection((host, port), timeout=_TIMEOUT_S) as sock:
        conn.initiate_connection()
        stream = conn.get_next_available_stream_id()
        request_headers = [
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":path", path.encode()),
            (b":authority", f"{host}:{port}".encode()),
            *headers,
        ]
        conn.send_headers(stream, request_headers)
        size = conn.max_outbound_frame_size
        chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
        for i, piece in enumerate(chunks):
            conn.send_data(stream, piece, end_stream=i == len(chunks) - 1)
        sock.sendall(conn.data_to_send())
        done = False
        while not done:
            chunk = sock.recv(65536)
            if not chunk:
                break
            for event in conn.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived):
                    answer.headers = _text(list(event.headers))
                    answer.status_code = int(answer.headers.pop(":status", "0"))
                elif isinstance(event, h2.events.DataReceived):
                    body_parts += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.TrailersReceived):
                    answer.trailers = _text(list(event.headers))
                elif isinstance(event, h2.events.StreamReset):
                    answer.reset = done = True
                elif isinstance(event, (h2.events.StreamEnded, h2.events.ConnectionTerminated)):
                    done = True
            sock.sendall(conn.data_to_send())
    answer.content = bytes(body_parts)
    return answer
