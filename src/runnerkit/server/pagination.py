"""Page sizes and opaque, tamper-evident page tokens (AIP-158).

A token is ``base64url(payload) "." base64url(mac)``: the payload is compact JSON holding a
version, the RPC, a fingerprint of the request's filter and caller, and the keyset position of
the last item served; the MAC is HMAC-SHA256 (first 16 bytes) under a key derived from the
server's master key. A token that does not verify, names another RPC, or was made for another
filter or caller is ``invalid_argument`` naming ``pagination.token``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import TYPE_CHECKING

from runnerkit.server.crypto import hmac_sha256
from runnerkit.server.domain.errors import InvalidArgumentError

if TYPE_CHECKING:
    from google.protobuf.message import Message

    from runnerkit_proto.gitpod.v1 import pagination_pb2

DEFAULT_PAGE_SIZE = 25
_VERSION = 1
_MAC_BYTES = 16
_TOKEN_FIELD = "pagination.token"  # noqa: S105 - a field name

Position = list[str | int]
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps(..., separators)


def page_size(pagination: pagination_pb2.PaginationRequest) -> int:
    """The effective page size: 0 (unset) means 25.

    The schema's rule (``page_size``: 0-100, proto/gitpod/v1/pagination.proto) is checked
    before any handler runs, so anything else is an error the caller has already had.

    Args:
        pagination: The request's pagination.

    Returns:
        A size in 1..100.
    """
    return pagination.page_size or DEFAULT_PAGE_SIZE


def fingerprint(request: Message, caller_id: str) -> str:
    """A digest of everything in ``request`` but its pagination, and of the caller.

    Args:
        request: A List request with a ``pagination`` field.
        caller_id: The subject asking.

    Returns:
        32 hex digits.
    """
    copy = type(request)()
    copy.CopyFrom(request)
    copy.ClearField("pagination")
    digest = hashlib.sha256(caller_id.encode() + b"\0" + copy.SerializeToString(deterministic=True))
    return digest.hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    """Makes and checks page tokens under one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "PageTokens(<key>)"

    def encode(self, rpc: str, filter_fingerprint: str, position: Position) -> str:
        """A token for the page after ``position``.

        Args:
            rpc: The RPC's name, e.g. ``ListRunners``.
            filter_fingerprint: ``fingerprint(request, caller)``.
            position: Keyset position of the last item served.

        Returns:
            The opaque token.
        """
        payload = _COMPACT_JSON(
            {"v": _VERSION, "m": rpc, "f": filter_fingerprint, "p": position}
        ).encode()
        return _b64(payload) + "." + _b64(hmac_sha256(self._key, payload)[:_MAC_BYTES])

    def decode(self, token: str, rpc: str, filter_fingerprint: str) -> Position | None:
        """The position a token stands for; None for the empty token (first page).

        Args:
            token: The token from the request.
            rpc: The RPC being served.
            filter_fingerprint: ``fingerprint(request, caller)`` of this request.

        Returns:
            The keyset position, or None.

        Raises:
            InvalidArgumentError: The token is altered, foreign, or for another filter.
        """
        if not token:
            return None
        try:
            payload_b64, mac_b64 = token.split(".")
            payload, mac = _unb64(payload_b64), _unb64(mac_b64)
        except (ValueError, binascii.Error):
            raise InvalidArgumentError(_TOKEN_FIELD, "invalid page token") from None
        if not hmac.compare_digest(mac, hmac_sha256(self._key, payload)[:_MAC_BYTES]):
            raise InvalidArgumentError(_TOKEN_FIELD, "invalid page token")
        data = json.loads(payload)
        if data.get("v") != _VERSION or data.get("m") != rpc:
            raise InvalidArgumentError(_TOKEN_FIELD, "page token belongs to another call")
        if data.get("f") != filter_fingerprint:
            raise InvalidArgumentError(_TOKEN_FIELD, "page token was made for another filter")
        position = data.get("p")
        if not isinstance(position, list):
            raise InvalidArgumentError(_TOKEN_FIELD, "invalid page token")
        return position
