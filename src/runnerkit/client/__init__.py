"""The runnerkit client: the reference SDK's call shape over the generated Connect clients.

``Client`` / ``AsyncClient`` (settings, auth, retries, codecs), ``Page`` / ``AsyncPage`` /
``AsyncPaginator`` (pagination), ``APIResponse`` (``.with_raw_response``), ``paginate`` / ``apaginate`` (any generated List RPC), and the error classes.
"""

from __future__ import annotations

from runnerkit.client._client import DEFAULT_TIMEOUT, AsyncClient, Client
from runnerkit.client.auth import DEFAULT_BASE_URL
from runnerkit.client.codecs import CompactJSONCodec
from runnerkit.client.errors import (
    AbortedError,
    AlreadyExistsError,
    APIError,
    ConfigurationError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    RunnerKitError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
)
from runnerkit.client.pagination import AsyncPage, AsyncPaginator, Page, apaginate, paginate
from runnerkit.client.results import APIResponse
from runnerkit.client.retry import RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "APIError",
    "APIResponse",
    "AbortedError",
    "AlreadyExistsError",
    "AsyncClient",
    "AsyncPage",
    "AsyncPaginator",
    "Client",
    "CompactJSONCodec",
    "ConfigurationError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "RetryPolicy",
    "RunnerKitError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "apaginate",
    "paginate",
]
