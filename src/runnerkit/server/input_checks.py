"""Requests whose string fields hold NUL characters are refused (``text_rules.py``).

:func:`check_request_text` runs in ``pipeline.RequestPipeline`` after authentication, on the
decoded request of every RPC whatever the protocol or codec, before the handler: a string
field holding ``U+0000`` is ``invalid_argument`` naming the field, and nothing is stored.
PostgreSQL cannot hold NUL in text; SQLite could, so without this check the two stores would
answer the same request differently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from runnerkit.server.text_rules import nul_field

if TYPE_CHECKING:
    from google.protobuf.message import Message

NUL_MESSAGE = "must not contain NUL characters"


def check_request_text(request: Message) -> None:
    """Refuse a request with NUL in a string field.

    Args:
        request: The decoded request.

    Raises:
        ConnectError: ``invalid_argument``, ``<field>: must not contain NUL characters``.
    """
    if b"\x00" not in request.SerializeToString():  # a NUL in a string is a zero byte
        return
    field = nul_field(request)
    if field is not None:
        raise ConnectError(Code.INVALID_ARGUMENT, f"{field}: {NUL_MESSAGE}")
