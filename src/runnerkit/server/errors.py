"""Domain exceptions to ``ConnectError``, in one table; anything unexpected to ``internal``.

Messages of domain exceptions go to clients as they are (they are written for clients); an
unexpected exception is logged with its traceback here and the client sees only
``internal error``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from runnerkit.server.domain.errors import (
    AlreadyExistsError,
    DomainError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnavailableError,
    UnimplementedError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connectrpc.request import RequestContext

_log = logging.getLogger("runnerkit.server")

CODES: dict[type[DomainError], Code] = {
    InvalidArgumentError: Code.INVALID_ARGUMENT,
    PermissionDeniedError: Code.PERMISSION_DENIED,
    NotFoundError: Code.NOT_FOUND,
    AlreadyExistsError: Code.ALREADY_EXISTS,
    FailedPreconditionError: Code.FAILED_PRECONDITION,
    UnimplementedError: Code.UNIMPLEMENTED,
    ResourceExhaustedError: Code.RESOURCE_EXHAUSTED,
    UnavailableError: Code.UNAVAILABLE,
}

RETRYABLE_CODES = frozenset(
    {Code.UNAVAILABLE, Code.RESOURCE_EXHAUSTED, Code.DEADLINE_EXCEEDED, Code.ABORTED}
)

INTERNAL_MESSAGE = "internal error"

_REQ = TypeVar("_REQ")
_RES = TypeVar("_RES")


def to_connect_error(exc: DomainError) -> ConnectError:
    """The ``ConnectError`` a domain exception stands for.

    Args:
        exc: The exception.

    Returns:
        A ``ConnectError`` with the table's code (``internal`` for unknown subclasses) and
        the exception's message.
    """
    for cls in type(exc).__mro__:
        code = CODES.get(cls)
        if code is not None:
            return ConnectError(code, exc.message)
    return ConnectError(Code.INTERNAL, INTERNAL_MESSAGE)


class ErrorInterceptor:
    """Unary interceptor: domain errors to their codes, anything else to ``internal``."""

    async def intercept_unary(
        self,
        call_next: Callable[[_REQ, RequestContext[_REQ, _RES]], Awaitable[_RES]],
        request: _REQ,
        ctx: RequestContext[_REQ, _RES],
        /,
    ) -> _RES:
        """Run the handler and translate what it raises."""
        try:
            return await call_next(request, ctx)
        except ConnectError:
            raise
        except DomainError as exc:
            raise to_connect_error(exc) from exc
        except Exception as exc:
            _log.exception("unexpected error in %s", ctx.method.name)
            raise ConnectError(Code.INTERNAL, INTERNAL_MESSAGE) from exc
