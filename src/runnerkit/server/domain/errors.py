"""Exceptions of the reference server's rules and store, mapped to Connect codes in one table.

``server/errors.py`` turns each class into a ``ConnectError``; everything else becomes
``internal``. Messages are sent to clients: short, naming the field or id, no internals.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors that the rules and the store raise on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(DomainError):
    """A request field is missing, malformed or out of range.

    Attributes:
        field: The request field at fault, in proto (snake_case) dotted form.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class PermissionDeniedError(DomainError):
    """The caller may not do this to this resource."""


class NotFoundError(DomainError):
    """A well-formed id names nothing."""


class AlreadyExistsError(DomainError):
    """The resource (or its unique key) exists already."""


class FailedPreconditionError(DomainError):
    """The system is not in the state the request needs."""


class UnimplementedError(DomainError):
    """The server does not do this (yet)."""


class ResourceExhaustedError(DomainError):
    """A quota or rate limit is used up (retryable later)."""


class UnavailableError(DomainError):
    """A dependency is down or did not answer in time (retryable)."""


__all__ = [
    "AlreadyExistsError",
    "DomainError",
    "FailedPreconditionError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "UnavailableError",
    "UnimplementedError",
]
