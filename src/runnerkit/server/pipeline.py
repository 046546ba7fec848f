"""``RequestPipeline``: the checks every request passes after authentication, and error mapping.

One unary interceptor (one layer per call instead of three), in this order:

1. text rules (``input_checks.check_request_text``): a string field holding NUL is
   ``invalid_argument`` naming the field;
2. the schema's ``buf.validate`` rules (``request_validation.check_request_rules``):
   ``invalid_argument`` naming each field path, with a ``buf.validate.Violations`` detail;
3. the handler, whose domain exceptions become their ``ConnectError``
   (``errors.to_connect_error``) and anything unexpected ``internal error``, logged here with
   its traceback (the client never sees internal text).

The errors of steps 1 and 2 are the client's answer as they are; they do not go through
step 3's mapping. The rules themselves are plain functions in their modules, tested without
HTTP.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from runnerkit.server.domain.errors import DomainError
from runnerkit.server.errors import INTERNAL_MESSAGE, to_connect_error
from runnerkit.server.input_checks import check_request_text
from runnerkit.server.request_validation import check_request_rules

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connectrpc.request import RequestContext

__all__ = ["RequestPipeline"]

_log = logging.getLogger("runnerkit.server")
_REQ = TypeVar("_REQ")
_RES = TypeVar("_RES")


class RequestPipeline:
    """Unary interceptor: text rules, schema rules, then the handler with error mapping."""

    async def intercept_unary(
        self,
        call_next: Callable[[_REQ, RequestContext[_REQ, _RES]], Awaitable[_RES]],
        request: _REQ,
        ctx: RequestContext[_REQ, _RES],
        /,
    ) -> _RES:
        """Check ``request``, run the handler and translate what it raises.

        Raises:
            ConnectError: ``invalid_argument`` for a request that breaks a rule; the code of
                a domain exception; ``internal`` for anything else.
        """
        check_request_text(request)  # type: ignore[arg-type]  # every request is a message
        check_request_rules(request, ctx.method.name)  # type: ignore[arg-type]
        try:
            return await call_next(request, ctx)
        except ConnectError:
            raise
        except DomainError as exc:
            raise to_connect_error(exc) from exc
        except Exception as exc:
            _log.exception("unexpected error in %s", ctx.method.name)
            raise ConnectError(Code.INTERNAL, INTERNAL_MESSAGE) from exc
