"""``validate=True``: requests are checked against the schema's rules before they are sent.

The same ``buf.validate`` rules the server enforces (``runnerkit.request_rules``); a request
that breaks one raises ``InvalidArgumentError`` (or, on the generated clients,
``ConnectError`` with ``invalid_argument``) carrying the same message and
``buf.validate.Violations`` detail the server would answer with, and nothing goes on the wire.
Needs protovalidate: ``pip install 'runnerkit[validate]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from runnerkit.request_rules import RuleViolations, check, load_validator

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connectrpc.request import RequestContext

__all__ = ["RequestRules"]

REQ = TypeVar("REQ")
RES = TypeVar("RES")


def _check(request: object) -> None:
    try:
        check(request)  # type: ignore[arg-type]  # requests are generated messages
    except RuleViolations as exc:
        raise ConnectError(Code.INVALID_ARGUMENT, exc.message, details=[exc.violations]) from None


class RequestRules:
    """Unary interceptor (sync and async) refusing requests that break the schema's rules."""

    def __init__(self) -> None:
        load_validator()  # fail at construction, not at the first call, without protovalidate

    def __repr__(self) -> str:
        return "RequestRules()"

    def intercept_unary_sync(
        self,
        call_next: Callable[[REQ, RequestContext[Any, Any]], RES],
        request: REQ,
        ctx: RequestContext[Any, Any],
        /,
    ) -> RES:
        """Check ``request``, then send it."""
        _check(request)
        return call_next(request, ctx)

    async def intercept_unary(
        self,
        call_next: Callable[[REQ, RequestContext[Any, Any]], Awaitable[RES]],
        request: REQ,
        ctx: RequestContext[Any, Any],
        /,
    ) -> RES:
        """Check ``request``, then send it."""
        _check(request)
        return await call_next(request, ctx)
