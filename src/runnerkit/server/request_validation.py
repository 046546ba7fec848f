"""Every request is checked against the schema's ``buf.validate`` rules before its handler.

A unary interceptor, placed after authentication and before error mapping in ``create_app``,
so it serves Connect, gRPC-Web and gRPC alike. A request that breaks a rule gets
``invalid_argument``: the message names each field path (``pagination.page_size: must be ...``)
and the error carries a ``buf.validate.Violations`` detail listing every violation. The rules
themselves live in ``proto/`` (see ``runnerkit.request_rules``); handlers and domain code only
check what a schema cannot express.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protovalidate import CompilationError, EvaluationError

from runnerkit.request_rules import RuleViolations, check
from runnerkit.server.errors import INTERNAL_MESSAGE

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connectrpc.request import RequestContext

__all__ = ["RequestValidationInterceptor", "invalid_argument"]

_log = logging.getLogger("runnerkit.server")
_REQ = TypeVar("_REQ")
_RES = TypeVar("_RES")


def invalid_argument(exc: RuleViolations) -> ConnectError:
    """The ``invalid_argument`` error for broken rules, with the Violations detail."""
    return ConnectError(Code.INVALID_ARGUMENT, exc.message, details=[exc.violations])


class RequestValidationInterceptor:
    """Unary interceptor: requests that break the schema's rules never reach the handler."""

    async def intercept_unary(
        self,
        call_next: Callable[[_REQ, RequestContext[_REQ, _RES]], Awaitable[_RES]],
        request: _REQ,
        ctx: RequestContext[_REQ, _RES],
        /,
    ) -> _RES:
        """Check ``request``, then run the handler."""
        try:
            check(request)  # type: ignore[arg-type]  # every request is a generated message
        except RuleViolations as exc:
            raise invalid_argument(exc) from None
        except (CompilationError, EvaluationError) as exc:  # a schema bug, not the caller's
            _log.exception("the rules of %s cannot be evaluated", ctx.method.name)
            raise ConnectError(Code.INTERNAL, INTERNAL_MESSAGE) from exc
        return await call_next(request, ctx)
