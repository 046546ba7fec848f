"""Hostile requests per protocol, and what a well-formed answer is (used by ``test_fuzz.py``).

``request(mode, rpc)`` draws a whole request (method, query string, headers, body) for one
protocol mode; ``check(request, response)`` asserts the answer is well formed for that
protocol and never a server fault:

- every answer: not HTTP 500, no ``internal``/``unknown``/``data_loss`` code, no internal text
  (Python reprs, tracebacks) in the error message;
- Connect (POST proto/JSON, GET): 200 with a body that decodes as the response message in the
  request's codec, or an error with a JSON body ``{"code", "message"}`` whose code is a Connect
  code and whose HTTP status is that code's; 405/415 before the protocol is known carry no body;
  a URL too long for the HTTP server gets its plain-text 400 (the app never sees it);
- gRPC-Web (binary and text framing): 200 with ``grpc-status`` in the headers (trailers-only)
  or in a trailer frame at the end of well-formed frames; the status is a gRPC code other than
  UNKNOWN (2), INTERNAL (13), DATA_LOSS (15); ``grpc-message`` is valid percent-encoding.

- gRPC (HTTP/2, sent frame by frame by ``fuzz_grpc.h2_call``): 200 with ``grpc-status`` in the
  trailers (or trailers-only headers) after well-formed frames, judged as gRPC-Web; never a
  reset stream.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import quote, unquote_to_bytes

from hypothesis import strategies as st

from tests.server.fuzz_bodies import RUNNER_ID, TEXT, json_body, proto_body
from tests.server.fuzz_grpc import H2Answer, h2_call

if TYPE_CHECKING:
    import httpx

    from tests.server.fuzz_bodies import RPC

Answer: TypeAlias = "httpx.Response | H2Answer"
ADMIN = b"<admin token>"  # replaced by the real admin token when sent
MODES = (
    "connect-proto",
    "connect-json",
    "connect-get",
    "grpc-web",
    "grpc-web-text",
    "grpc",
    "headers",
)

CONNECT_STATUS = {
    "canceled": 499,
    "invalid_argument": 400,
    "deadline_exceeded": 504,
    "not_found": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "resource_exhausted": 429,
    "failed_precondition": 400,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "unavailable": 503,
    "unauthenticated": 401,
}
FAULT_CODES = frozenset({"internal", "unknown", "data_loss"})
INTERNAL_TEXT = ("Traceback", "<method", "object at 0x", "exception set", "_upb", "site-packages")
GRPC_FAULTS = frozenset({2, 13, 15})


@dataclass
class Request:
    """One drawn request; ``protocol`` is connect, grpc-web or grpc-web-text."""

    rpc: RPC
    protocol: str
    codec: str | None
    method: str = "POST"
    query: str = ""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    def send(self, client: httpx.Client, admin_token: str, runner_id: str) -> Answer:
        """Send it with ``client`` (base URL set), the admin token in place of ``ADMIN`` and
        an existing runner's id in place of ``RUNNER_ID`` (same length: framing holds)."""
        headers = [(k, v.replace(ADMIN, admin_token.encode())) for k, v in self.headers]
        url = self.rpc.path + (f"?{self.query}" if self.query else "")
        body = self.body.replace(RUNNER_ID.encode(), runner_id.encode())
        if self.protocol == "grpc":
            return h2_call(str(client.base_url), url, headers, body)
        return client.request(self.method, url, content=body, headers=headers)


# --- pieces shared by the modes ---------------------------------------------------------------


def _rarely(draw: st.DrawFn, n: int) -> bool:
    """True about once in ``n`` draws (False in the simplest example)."""
    return draw(st.integers(0, n - 1)) == n - 1


_HEADER_CHARS = st.characters(
    codec="latin-1", exclude_characters="\r\n\x00", exclude_categories=["Cc"]
)
HEADER_JUNK = st.text(_HEADER_CHARS, max_size=24).map(lambda s: s.strip().encode("latin-1"))
BAD_AUTHORIZATION = st.one_of(
    st.sampled_from([b"", b"Bearer", b"Basic YTpi", b"bearer rk_x", b"Bearer \xff\xfe"]),
    HEADER_JUNK.map(lambda v: (b"Bearer " + v).strip()),
    st.just(b"Bearer " + b"A" * 600),
)
TIMEOUT_MS = st.sampled_from([b"0", b"1", b"30000", b"-1", b"abc", b"1e3", b"99999999999", b""])
QUERY_VALUES = st.one_of(
    st.sampled_from(["²", "--1", "9" * 5000, "+1", "-1", "5", "0", "2147483648", "%00"]),
    TEXT,
)


@st.composite
def _query(draw: st.DrawFn, rpc: RPC) -> str:
    pairs = draw(
        st.lists(st.tuples(st.one_of(st.sampled_from(["x", "y"]), TEXT), TEXT), max_size=2)
    )
    if rpc.paginated:  # the middleware reads these two
        pairs.insert(0, (draw(st.sampled_from(["pageSize", "token"])), draw(QUERY_VALUES)))
    parts = []
    for key, value in pairs:
        encoded = value.encode("utf-8", "surrogatepass")
        parts.append(f"{quote(key.encode('utf-8', 'surrogatepass'))}={quote(encoded)}")
    return "&".join(parts)


@st.composite
def _common_headers(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    headers = []
    if not _rarely(draw, 10):
        bad = _rarely(draw, 4)
        headers.append((b"authorization", draw(BAD_AUTHORIZATION) if bad else b"Bearer " + ADMIN))
    if draw(st.booleans()):
        bad = _rarely(draw, 5)
        version = draw(st.sampled_from([b"2", b"", b"1.0"])) if bad else b"1"
        headers.append((b"connect-protocol-version", version))
    if _rarely(draw, 5):
        headers.append((b"connect-timeout-ms", draw(TIMEOUT_MS)))
    return headers


def _gzip_or_bad(draw: st.DrawFn, body: bytes) -> tuple[bytes, bytes | None]:
    """The body and a content encoding: none, valid gzip, bad gzip, or an unknown one."""
    if not _rarely(draw, 3):
        return body, None
    how = draw(st.sampled_from(["gzip", "gzip", "bad-gzip", "truncated", "other"]))
    if how == "gzip":
        return gzip.compress(body), b"gzip"
    if how == "bad-gzip":
        return body, b"gzip"
    if how == "truncated":
        packed = gzip.compress(body)
        return packed[: draw(st.integers(0, max(len(packed) - 1, 0)))], b"gzip"
    if how == "other":
        return body, draw(st.sampled_from([b"br", b"identity", b"deflate", b"zstd", b"GZIP, x"]))
    return body, None


# --- the modes ---------------------------------------------------------------------------------


@st.composite
def _connect_post(draw: st.DrawFn, rpc: RPC, codec: str) -> Request:
    body = draw(proto_body(rpc) if codec == "proto" else json_body(rpc))
    body, encoding = _gzip_or_bad(draw, body)
    content_type = draw(
        st.sampled_from(
            [b"application/proto"]
            if codec == "proto"
            else [b"application/json", b"application/json; charset=utf-8", b"application/json;x"]
        )
    )
    headers = [(b"content-type", content_type), *draw(_common_headers())]
    if encoding is not None:
        headers.append((b"content-encoding", encoding))
    query = draw(_query(rpc)) if _rarely(draw, 2 if rpc.paginated else 4) else ""
    return Request(rpc, "connect", codec, "POST", query, headers, body)


@st.composite
def _connect_get(draw: st.DrawFn, rpc: RPC) -> Request:
    codec = draw(st.sampled_from(["proto", "json"]))
    message = draw(proto_body(rpc) if codec == "proto" else json_body(rpc))
    params: list[tuple[str, bytes]] = []
    compression = draw(st.sampled_from([None, None, b"gzip", b"identity", b"br", b"junk"]))
    if compression == b"gzip" and draw(st.booleans()):
        message = gzip.compress(message)
    use_base64 = draw(st.sampled_from([None, b"1", b"1", b"0", b"true", b"x"]))
    if use_base64 == b"1" or (codec == "proto" and draw(st.booleans())):
        message = base64.urlsafe_b64encode(message)
        if draw(st.booleans()):
            message = message.rstrip(b"=")
    if not _rarely(draw, 10):
        params.append(("message", message))
    if not _rarely(draw, 10):
        params.append(("encoding", draw(st.sampled_from([codec.encode(), codec.encode(), b"xml"]))))
    if not _rarely(draw, 4):
        params.append(("connect", draw(st.sampled_from([b"v1", b"v1", b"v2", b""]))))
    if use_base64 is not None:
        params.append(("base64", use_base64))
    if compression is not None:
        params.append(("compression", compression))
    query = "&".join(f"{key}={quote(value)}" for key, value in params)
    if _rarely(draw, 5):
        query += "&" + draw(_query(rpc))
    return Request(rpc, "connect", codec, "GET", query, draw(_common_headers()), b"")


@st.composite
def _enveloped(draw: st.DrawFn, rpc: RPC, protocol: str) -> Request:
    """gRPC-Web (binary or text framing) or gRPC: enveloped messages, status in trailers."""
    text = protocol == "grpc-web-text"
    codec = "proto" if text else draw(st.sampled_from(["proto", "proto", "json"]))
    payload = draw(proto_body(rpc) if codec == "proto" else json_body(rpc))
    encoding = draw(st.sampled_from([None, None, b"identity", b"gzip", b"br", b"junk"]))
    flag = draw(st.sampled_from([0, 0, 0, 1, 0x80, 0x7F]))
    if encoding == b"gzip" and flag == 1 and not _rarely(draw, 4):
        payload = gzip.compress(payload)
    length = len(payload) if not _rarely(draw, 6) else draw(st.integers(0, 2**32 - 1))
    body = bytes([flag]) + length.to_bytes(4, "big") + payload
    body += draw(
        st.sampled_from([b"", b"", b"", b"\x00", b"\x80\x00\x00\x00\x00", b"\x00\x00\x00\x00\x01x"])
    )
    if _rarely(draw, 6):
        body = body[: draw(st.integers(0, len(body)))]
    if text:
        body = base64.b64encode(body)
        if _rarely(draw, 6):
            body = draw(st.sampled_from([body.rstrip(b"="), body + b"!", b"%%%", body[:-1]]))
    base = b"application/grpc" if protocol == "grpc" else b"application/grpc-web"
    if text:
        text_types = [b"application/grpc-web-text", b"application/grpc-web-text+proto"]
        content_type = draw(st.sampled_from(text_types))
    elif codec == "json":
        content_type = base + b"+json"
    else:
        content_type = draw(st.sampled_from([base, base + b"+proto"]))
    headers = [(b"content-type", content_type), *draw(_common_headers())]
    if encoding is not None:
        headers.append((b"grpc-encoding", encoding))
    if _rarely(draw, 5):
        timeout = [b"1S", b"100m", b"99999999H", b"1", b"xx", b"-1S", b"123456789S"]
        headers.append((b"grpc-timeout", draw(st.sampled_from(timeout))))
    if _rarely(draw, 5):
        headers.append((b"grpc-accept-encoding", draw(st.sampled_from([b"gzip", b"junk", b""]))))
    if protocol == "grpc" and not _rarely(draw, 8):
        headers.append((b"te", b"trailers"))
    return Request(rpc, protocol, codec, "POST", "", headers, body)


CONTENT_TYPES = [
    b"application/proto",
    b"application/json",
    b"application/connect+proto",
    b"application/connect+json",
    b"application/grpc-web",
    b"application/grpc-web+json",
    b"application/grpc-web-text",
    b"application/grpc-web+xml",
    b"application/JSON",
    b"application/json; charset=latin-1",
    b"application/proto; x=\xff",
    b"text/plain",
    b"multipart/form-data; boundary=x",
    b"application/x-www-form-urlencoded",
    b"",
]


@st.composite
def _headers_mode(draw: st.DrawFn, rpc: RPC) -> Request:
    """Malformed headers: any content type, content encoding, timeout, protocol version."""
    content_type = draw(st.one_of(st.sampled_from(CONTENT_TYPES), HEADER_JUNK))
    is_json = b"json" in content_type.lower() and b"grpc" not in content_type.lower()
    body = draw(json_body(rpc) if is_json else proto_body(rpc))
    headers = [(b"content-type", content_type)] if not _rarely(draw, 10) else []
    headers += draw(_common_headers())
    if draw(st.booleans()):
        headers.append(
            (b"content-encoding", draw(st.one_of(st.sampled_from([b"gzip", b"br"]), HEADER_JUNK)))
        )
    if draw(st.booleans()):
        name = draw(
            st.sampled_from(
                [
                    b"connect-content-encoding",
                    b"connect-accept-encoding",
                    b"accept-encoding",
                    b"x-junk",
                ]
            )
        )
        headers.append((name, draw(HEADER_JUNK)))
    method = draw(st.sampled_from(["POST", "POST", "POST", "PUT", "PATCH", "DELETE"]))
    protocol = (
        "grpc-web-text"
        if b"grpc-web-text" in content_type.lower()
        else ("grpc-web" if content_type.lower().startswith(b"application/grpc-web") else "connect")
    )
    return Request(rpc, protocol, None, method, draw(_query(rpc)), headers, body)


def request(mode: str, rpc: RPC) -> st.SearchStrategy[Request]:
    """Hostile requests of one protocol mode (``MODES``) for ``rpc``."""
    if mode in ("connect-proto", "connect-json"):
        return _connect_post(rpc, mode.removeprefix("connect-"))
    if mode == "connect-get":
        return _connect_get(rpc)
    if mode in ("grpc-web", "grpc-web-text", "grpc"):
        return _enveloped(rpc, mode)
    if mode == "headers":
        return _headers_mode(rpc)
    msg = f"unknown mode {mode}"
    raise AssertionError(msg)


# --- checks ------------------------------------------------------------------------------------


def check(req: Request, response: Answer) -> None:
    """Assert ``response`` is a well-formed answer to ``req`` and no server fault."""
    if isinstance(response, H2Answer):
        _check_grpc(req, response)
        return
    status = response.status_code
    assert status != 500, f"HTTP 500: {response.content[:300]!r}"
    content_type = response.headers.get("content-type", "")
    if status in (405, 415):
        assert response.content == b"", response.content[:200]  # before any protocol applies
        return
    if status in (400, 414, 431) and content_type.startswith("text/plain"):
        return  # the HTTP server refused a request line or headers too long to parse (no app)
    if content_type.startswith("application/grpc-web"):
        _check_grpc_web(req, response)
        return
    _check_connect(req, response)


def _check_connect(req: Request, response: httpx.Response) -> None:
    status = response.status_code
    content_type = response.headers.get("content-type", "")
    if status == 200:
        assert req.protocol == "connect", f"a {req.protocol} request got a Connect answer"
        if content_type == "application/proto":
            req.rpc.response.FromString(response.content)
        else:
            assert content_type == "application/json", content_type
            assert isinstance(json.loads(response.content), dict)
        return
    assert content_type == "application/json", (status, content_type, response.content[:200])
    body = json.loads(response.content)
    assert isinstance(body, dict), body
    code = body.get("code")
    assert code not in FAULT_CODES, body
    assert code in CONNECT_STATUS, body
    assert isinstance(body.get("message", ""), str), body
    assert not any(text in body.get("message", "") for text in INTERNAL_TEXT), body
    if code != "unimplemented":  # unknown paths are 404 unimplemented, by design
        assert status == CONNECT_STATUS[code], (status, body)


_B64_CHUNK = re.compile(rb"[A-Za-z0-9+/]+={0,2}")


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    frames = []
    while data:
        assert len(data) >= 5, f"truncated gRPC-Web frame header: {data!r}"
        flag, length = data[0], int.from_bytes(data[1:5], "big")
        assert len(data) >= 5 + length, "truncated gRPC-Web frame"
        frames.append((flag, data[5 : 5 + length]))
        data = data[5 + length :]
    return frames


def _check_grpc_web(req: Request, response: httpx.Response) -> None:
    assert response.status_code == 200, response.status_code
    data = response.content
    if response.headers["content-type"].startswith("application/grpc-web-text"):
        data = b"".join(base64.b64decode(chunk) for chunk in _B64_CHUNK.findall(data))
    trailers: dict[str, str] = {}
    frames = _frames(data)
    if "grpc-status" in response.headers:  # trailers-only
        assert not frames, frames
        trailers = {
            k: response.headers[k] for k in ("grpc-status", "grpc-message") if k in response.headers
        }
    else:
        assert frames, f"no frames: {data[:200]!r}"
        assert frames[-1][0] & 0x80, f"no trailer frame: {data[:200]!r}"
        flag, block = frames[-1]
        if flag & 0x01:
            assert response.headers.get("grpc-encoding") == "gzip", response.headers
            block = gzip.decompress(block)
        for line in block.decode("ascii").split("\r\n"):
            if line:
                key, _, value = line.partition(":")
                trailers[key.strip().lower()] = value.strip()
        for flag, payload in frames[:-1]:
            assert flag in (0, 1), flag
            if req.codec == "proto":
                req.rpc.response.FromString(gzip.decompress(payload) if flag else payload)
    _check_grpc_status(trailers)


def _check_grpc(req: Request, answer: H2Answer) -> None:
    assert not answer.reset, "the server reset the stream"
    assert answer.status_code != 500, answer
    if answer.status_code in (405, 415):
        return  # before any protocol applies (an unknown content type)
    assert answer.status_code == 200, answer
    trailers = answer.trailers or answer.headers  # trailers-only: the status is in the headers
    frames = _frames(answer.content)
    if not answer.trailers:
        assert not frames, frames
    for flag, payload in frames:
        assert flag in (0, 1), flag
        if req.codec == "proto":
            req.rpc.response.FromString(gzip.decompress(payload) if flag else payload)
    _check_grpc_status(trailers)


def _check_grpc_status(trailers: dict[str, str]) -> None:
    code = trailers.get("grpc-status", "")
    assert code.isdigit(), trailers
    assert 0 <= int(code) <= 16, trailers
    assert int(code) not in GRPC_FAULTS, trailers
    message = unquote_to_bytes(trailers.get("grpc-message", "")).decode("utf-8")
    assert not any(text in message for text in INTERNAL_TEXT), trailers
