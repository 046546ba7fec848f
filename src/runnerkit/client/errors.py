"""Exceptions raised by the runnerkit client, keyed by Connect code.

::

    RunnerKitError                  anything the client raises on purpose
    ├── ConfigurationError          bad client settings (e.g. no bearer token), at construction
    └── APIError                    the server (or the transport) answered with a Connect error
        ├── InvalidArgumentError        invalid_argument
        ├── NotFoundError               not_found
        ├── AlreadyExistsError          already_exists
        ├── PermissionDeniedError       permission_denied
        ├── UnauthenticatedError        unauthenticated
        ├── FailedPreconditionError     failed_precondition
        ├── AbortedError                aborted
        ├── ResourceExhaustedError      resource_exhausted
        ├── UnavailableError            unavailable (also: connection failures)
        ├── DeadlineExceededError       deadline_exceeded (also: client-side timeouts)
        ├── InternalError               internal
        └── UnimplementedError          unimplemented

Every :class:`APIError` keeps ``code``, ``message``, ``details``, the HTTP ``status_code`` the
server answered with (None when no response came) and the response ``headers``; it is raised ``from``
the original :class:`connectrpc.errors.ConnectError` (see ``__cause__``). Codes without a
class of their own (``unknown``, ``canceled``, ``out_of_range``, ``data_loss``) stay plain
:class:`APIError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from connectrpc.code import Code

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from connectrpc.errors import ConnectError, ErrorDetail
    from google.protobuf.message import Message

__all__ = [
    "APIError",
    "AbortedError",
    "AlreadyExistsError",
    "ConfigurationError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "RunnerKitError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "from_connect_error",
    "remember_response",
]

M = TypeVar("M", bound="Message")


class RunnerKitError(Exception):
    """Base class of every exception the runnerkit client raises on purpose."""


class ConfigurationError(RunnerKitError):
    """The client was configured wrongly (for example: no bearer token anywhere)."""


class APIError(RunnerKitError):
    """A Connect error answered by the server or produced by the transport.

    Attributes:
        code: The Connect code, e.g. ``Code.NOT_FOUND``.
        message: The server's message (for people, but treated as API by the server).
        details: The error details as sent (``connectrpc.errors.ErrorDetail``); decode one
            with :meth:`detail`.
        status_code: The HTTP status of the response (e.g. 404), or None when there was no
            response (connection failure, client-side timeout).
        headers: The response headers (empty without a response); ``.get(name)``.
    """

    def __init__(
        self,
        code: Code,
        message: str,
        details: Sequence[ErrorDetail] = (),
        *,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.details: tuple[ErrorDetail, ...] = tuple(details)
        self.status_code = status_code
        self.headers: Mapping[str, str] = headers if headers is not None else {}

    def detail(self, message_type: type[M]) -> M | None:
        """Return the first detail of the given protobuf type, decoded, if there is one.

        Args:
            message_type: A generated (google protobuf) message class.

        Returns:
            The decoded message, or None when no detail has that type.
        """
        wanted = message_type.DESCRIPTOR.full_name
        for detail in self.details:
            if detail.type_name == wanted:
                return message_type.FromString(detail.message_bytes)
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.value!r}, message={self.message!r})"


class InvalidArgumentError(APIError):
    """``invalid_argument``: the request is malformed, whatever the state of the server."""


class NotFoundError(APIError):
    """``not_found``: the named resource does not exist."""


class AlreadyExistsError(APIError):
    """``already_exists``: a resource with that identity exists already."""


class PermissionDeniedError(APIError):
    """``permission_denied``: the caller may not do this."""


class UnauthenticatedError(APIError):
    """``unauthenticated``: no valid bearer token."""


class FailedPreconditionError(APIError):
    """``failed_precondition``: the system is not in the state the call needs."""


class AbortedError(APIError):
    """``aborted``: a concurrency conflict; the caller may retry at a higher level."""


class ResourceExhaustedError(APIError):
    """``resource_exhausted``: a quota, limit or size bound was hit."""


class UnavailableError(APIError):
    """``unavailable``: the service (or the network) is temporarily unavailable."""


class DeadlineExceededError(APIError):
    """``deadline_exceeded``: the call did not finish in time."""


class InternalError(APIError):
    """``internal``: the server broke an invariant; not the caller's fault."""


class UnimplementedError(APIError):
    """``unimplemented``: the server does not implement this RPC (yet)."""


ERROR_CLASSES: dict[Code, type[APIError]] = {
    Code.INVALID_ARGUMENT: InvalidArgumentError,
    Code.NOT_FOUND: NotFoundError,
    Code.ALREADY_EXISTS: AlreadyExistsError,
    Code.PERMISSION_DENIED: PermissionDeniedError,
    Code.UNAUTHENTICATED: UnauthenticatedError,
    Code.FAILED_PRECONDITION: FailedPreconditionError,
    Code.ABORTED: AbortedError,
    Code.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    Code.UNAVAILABLE: UnavailableError,
    Code.DEADLINE_EXCEEDED: DeadlineExceededError,
    Code.INTERNAL: InternalError,
    Code.UNIMPLEMENTED: UnimplementedError,
}


def from_connect_error(error: ConnectError) -> APIError:
    """Build the matching :class:`APIError` subclass for a ``ConnectError``.

    The caller raises the result ``from error`` so that ``__cause__`` keeps the original.

    Args:
        error: The error raised by connectrpc.

    Returns:
        An instance of the class registered for ``error.code`` (plain APIError otherwise).
    """
    cls = ERROR_CLASSES.get(error.code, APIError)
    status, headers = getattr(error, _RESPONSE_ATTR, (None, None))
    return cls(error.code, error.message, error.details, status_code=status, headers=headers)


_RESPONSE_ATTR = "_runnerkit_response"


def remember_response(
    error: ConnectError, status_code: int | None, headers: Mapping[str, str]
) -> None:
    """Keep the HTTP status and headers of the response that carried ``error``.

    The retry interceptor, which sees each attempt's response, calls this before it raises;
    :func:`from_connect_error` reads it back.

    Args:
        error: The error about to be raised.
        status_code: The HTTP status, or None without a response.
        headers: The response headers.
    """
    setattr(error, _RESPONSE_ATTR, (status_code, headers))
