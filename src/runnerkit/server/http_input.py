r"""What arrives in the URL and headers, parsed strictly before anything else reads it.

Header values (:func:`utf8_header_values`; :func:`read_headers` does that and reads the two
headers the middleware needs, in one pass). HTTP allows any byte from 0x80 up in a header
value (ISO-8859-1 "obs-text"); connectrpc decodes values as UTF-8 and fails with an internal
error on anything else. Values that are not valid UTF-8 are therefore read as ISO-8859-1 and
passed on re-encoded as UTF-8: the same characters, which the layer reading the header then
judges as usual (an ``Authorization`` of ``Bearer \xff`` is ``unauthenticated``, a content type
of ``\xf5`` is HTTP 415).

gRPC without ``te: trailers`` (:func:`grpc_without_trailers`). The gRPC spec requires the
header; without it the HTTP/2 server sends no trailers, so the status of any answer would be
lost. Such a request gets a trailers-only ``invalid_argument`` (the status in the headers).

gRPC and gRPC-Web frames (:class:`CompressedFrameScanner`). A frame flagged compressed in a
request without a ``grpc-encoding`` makes connectrpc answer INTERNAL (as the gRPC spec words
it); it is the client's error, so the middleware, watching the frames as the body streams in
(authentication still answers before the body is read), answers ``invalid_argument``.

Query-string pagination (:func:`parse_page_size`). The reference's SDK sends ``pageSize`` and ``token`` in the URL query string of JSON list calls,
and they override the body's ``pagination`` (docs/server.md). Values come straight from the URL, so
they are parsed here strictly, before anything else sees them:

- ``pageSize``: optional ``-``, then 1 to 10 ASCII digits, within the range of ``int32`` (the
  field's type). Anything else — ``²`` and other Unicode digits, ``--1``, ``+1``, spaces, a
  5,000-digit number — is ``invalid_argument`` naming ``pagination.page_size``. A negative
  or too large value is the schema's business (its request rules say so).
- ``token``: passed on as it is; the page-token check (``pagination.py``) judges it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from runnerkit.server.domain.errors import InvalidArgumentError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "PAGE_SIZE_FIELD",
    "CompressedFrameScanner",
    "accepts_gzip",
    "compressed_frame_without_encoding",
    "grpc_without_trailers",
    "is_binary_grpc",
    "needs_frame_scan",
    "parse_page_size",
    "read_headers",
    "utf8_header_values",
]

PAGE_SIZE_FIELD = "pagination.page_size"
_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
_DECIMAL = re.compile(r"-?[0-9]{1,10}")


def parse_page_size(text: str) -> int:
    """The ``pageSize`` query parameter as an ``int32``.

    Args:
        text: The parameter's value, already percent-decoded.

    Returns:
        The value.

    Raises:
        InvalidArgumentError: ``text`` is not a plain decimal integer within ``int32``.
    """
    if not _DECIMAL.fullmatch(text):
        raise InvalidArgumentError(PAGE_SIZE_FIELD, "must be an integer")
    value = int(text)
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise InvalidArgumentError(PAGE_SIZE_FIELD, "must be a 32-bit integer")
    return value


def utf8_header_values(
    headers: Iterable[tuple[bytes, bytes]],
) -> list[tuple[bytes, bytes]] | None:
    """The headers with every value valid UTF-8, or None when they are all valid already.

    Args:
        headers: An ASGI scope's ``headers``.

    Returns:
        None when no value needs changing (the common case: ASCII); else the list with each
        value that is not UTF-8 read as ISO-8859-1 and re-encoded as UTF-8.
    """
    if all(bytes(value).isascii() for _, value in headers):
        return None
    fixed = []
    changed = False
    for name, value in headers:
        raw = bytes(value)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raw = raw.decode("latin-1").encode("utf-8")
            changed = True
        fixed.append((name, raw))
    return fixed if changed else None


class RequestHeaders(NamedTuple):
    """What :func:`read_headers` found."""

    fixed: list[tuple[bytes, bytes]] | None  # as utf8_header_values: None when unchanged
    content_length: str  # the first ``content-length`` value, "" when absent
    content_type: str  # the first ``content-type`` (any case), "" when absent
    accept_encoding: str = ""  # the first ``accept-encoding``, "" when absent


def read_headers(headers: Iterable[tuple[bytes, bytes]]) -> RequestHeaders:
    """The UTF-8 fix (:func:`utf8_header_values`) and the headers the middleware reads, at once.

    Args:
        headers: An ASGI scope's ``headers``.

    Returns:
        The fixed headers (None when all values are ASCII: the common case), and the
        ``content-length``, ``content-type`` and ``accept-encoding`` values of the fixed
        headers, read as ISO-8859-1.
    """
    length: str | None = None
    content_type: str | None = None
    accept_encoding: str | None = None
    for key, value in headers:
        raw = bytes(value)
        if not raw.isascii():
            return _read_fixed_headers(headers)
        if length is None and key == b"content-length":
            length = raw.decode("latin-1")
        elif content_type is None and key.lower() == b"content-type":
            content_type = raw.decode("latin-1")
        elif accept_encoding is None and key.lower() == b"accept-encoding":
            accept_encoding = raw.decode("latin-1")
    return RequestHeaders(None, length or "", content_type or "", accept_encoding or "")


def _read_fixed_headers(headers: Iterable[tuple[bytes, bytes]]) -> RequestHeaders:
    fixed = utf8_header_values(headers)
    pairs = list(headers) if fixed is None else fixed

    def first(name: bytes) -> str:
        return next((bytes(v).decode("latin-1") for k, v in pairs if k.lower() == name), "")

    return RequestHeaders(
        fixed,
        next((bytes(v).decode("latin-1") for k, v in pairs if k == b"content-length"), ""),
        first(b"content-type"),
        first(b"accept-encoding"),
    )


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether a Connect client takes a gzip answer, by its ``Accept-Encoding``.

    The rule of connectrpc (and connect-go): the first listed encoding the server supports
    wins, q-values are not weighed (``gzip;q=0.5`` is not ``gzip``). The server supports
    ``gzip`` and ``identity``.

    Args:
        accept_encoding: The header's value ("" when absent).

    Returns:
        True when ``gzip`` is listed and no ``identity`` comes before it.
    """
    for name in accept_encoding.split(","):
        name = name.strip()  # noqa: PLW2901 - the stripped token
        if name == "gzip":
            return True
        if name == "identity":
            return False
    return False


def is_binary_grpc(content_type: str) -> bool:
    """Whether a content type is gRPC or binary gRPC-Web (``application/grpc[-web][+codec]``)."""
    if "grpc" not in content_type.lower():  # the common case: Connect
        return False
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    for base in ("application/grpc", "application/grpc-web"):
        if kind == base or kind.startswith(base + "+"):
            return True
    return False


def grpc_without_trailers(content_type: str, te: str) -> bool:
    """Whether a gRPC (not gRPC-Web) request lacks the ``te: trailers`` header it must send.

    Args:
        content_type: The request's content type.
        te: Its ``te`` header ("" when absent).

    Returns:
        True for ``application/grpc[+codec]`` without ``trailers`` in ``te``.
    """
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind != "application/grpc" and not kind.startswith("application/grpc+"):
        return False
    return "trailers" not in (part.strip().lower() for part in te.split(","))


def needs_frame_scan(content_type: str, grpc_encoding: str) -> bool:
    """Whether a request's frames must be watched for a compressed flag (no encoding given).

    Args:
        content_type: The request's content type.
        grpc_encoding: Its ``grpc-encoding`` header ("" when absent).

    Returns:
        True for ``application/grpc[-web][+…]`` without ``grpc-encoding`` (or ``identity``).
    """
    return is_binary_grpc(content_type) and grpc_encoding.strip().lower() in ("", "identity")


class CompressedFrameScanner:
    """Follows gRPC frames through a body fed in chunks; notes a frame flagged compressed."""

    def __init__(self) -> None:
        self._header = bytearray()
        self._skip = 0
        self.found = False

    def feed(self, chunk: bytes) -> bool:
        """Scan the next chunk of the body; True once a compressed frame has been seen."""
        at = 0
        while at < len(chunk) and not self.found:
            if self._skip:
                step = min(self._skip, len(chunk) - at)
                self._skip -= step
                at += step
                continue
            take = min(5 - len(self._header), len(chunk) - at)
            self._header += chunk[at : at + take]
            at += take
            if len(self._header) == 5:
                self.found = bool(self._header[0] & 0x01)
                self._skip = int.from_bytes(self._header[1:5], "big")
                self._header.clear()
        return self.found


def compressed_frame_without_encoding(content_type: str, grpc_encoding: str, body: bytes) -> bool:
    """Whether a gRPC or binary gRPC-Web body has a frame flagged compressed but no encoding.

    Args:
        content_type: The request's content type.
        grpc_encoding: Its ``grpc-encoding`` header ("" when absent).
        body: The request body (or its start).

    Returns:
        True when :func:`needs_frame_scan` and a :class:`CompressedFrameScanner` finds one.
    """
    return needs_frame_scan(content_type, grpc_encoding) and CompressedFrameScanner().feed(body)
