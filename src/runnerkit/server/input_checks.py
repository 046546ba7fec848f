"""Interceptor refusing requests whose string fields hold NUL characters (``text_rules.py``).

It runs after authentication, on the decoded request of every RPC whatever the protocol or
codec, before the handler: a string field holding ``U+0000`` is ``invalid_argument`` naming
the field, and nothing is stored. PostgreSQL cannot hold NUL in text; SQLite could, so without
this check the two stores would answer the same request differently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from runnerkit.server.text_rules import nul_field

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connectrpc.request import RequestContext
    from google.protobuf.message import Message

_REQ = TypeVar("_REQ")
_RES = TypeVar("_RES")

NUL_MESSAGE = "must not contain NUL characters"


def check_request_text(request: Message) -> None:
    """Refuse a request with NUL in a string field.

    Args:
        request: The decoded request.

    Raises:
        ConnectError: ``invalid_argument``, ``<field>: must not contain NUL characters``.
    """
    field = nul_field(request)
    if field is not None:
        raise ConnectError(Code.INVALID_ARGUMENT, f"{field}: {NUL_MESSAGE}")


class InputCheckInterceptor:
    """Unary interceptor: :func:`check_request_text` before the handler runs."""

    async def intercept_unary(
        self,
        call_next: Callable[[_REQ, RequestContext[_REQ, _RES]], Awaitable[_RES]],
        request: _REQ,
        ctx: RequestContext[_REQ, _RES],
        /,
    ) -> _RES:
        """Check the request, then call the next layer."""
        check_request_text(request)  # type: ignore[arg-type]
        return await call_next(request, ctx)
