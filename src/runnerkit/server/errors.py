"""Domain exceptions to ``ConnectError``, in one table; anything unexpected to ``internal``.

Messages of domain exceptions go to clients as they are (they are written for clients); an
unexpected exception is logged with its traceback (by ``pipeline.RequestPipeline``, which
applies this table to what handlers raise) and the client sees only ``internal error``.
"""

from __future__ import annotations

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
