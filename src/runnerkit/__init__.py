"""runnerkit: a typed toolkit for the Gitpod (Ona) Runner management API.

``runnerkit.Client`` / ``runnerkit.AsyncClient`` give the reference SDK's call shape
(``client.runners.create(...)``) over the generated Connect clients. The generated protobuf
messages and clients live in ``runnerkit_proto.gitpod.v1``, built from ``proto/`` by ``make gen``.

``runnerkit.to_dict`` / ``to_json`` / ``to_datetime`` / ``to_timedelta`` turn responses into
plain Python (:mod:`runnerkit.messages`).

The names are re-exported lazily, so that ``import runnerkit.server`` does not load the client
(the server and the client never import each other) and ``import runnerkit`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runnerkit.client import (
        AbortedError,
        AlreadyExistsError,
        APIError,
        APIResponse,
        AsyncClient,
        AsyncPage,
        AsyncPaginator,
        Client,
        ConfigurationError,
        DeadlineExceededError,
        FailedPreconditionError,
        InternalError,
        InvalidArgumentError,
        NotFoundError,
        Page,
        PermissionDeniedError,
        ResourceExhaustedError,
        RetryPolicy,
        RunnerKitError,
        UnauthenticatedError,
        UnavailableError,
        UnimplementedError,
        apaginate,
        paginate,
    )
    from runnerkit.messages import to_datetime, to_dict, to_json, to_timedelta

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "APIResponse",
    "AbortedError",
    "AlreadyExistsError",
    "AsyncClient",
    "AsyncPage",
    "AsyncPaginator",
    "Client",
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
    "__version__",
    "apaginate",
    "paginate",
    "to_datetime",
    "to_dict",
    "to_json",
    "to_timedelta",
]

_MESSAGES = frozenset({"to_datetime", "to_dict", "to_json", "to_timedelta"})


def __getattr__(name: str) -> object:
    if name in __all__:
        module = "runnerkit.messages" if name in _MESSAGES else "runnerkit.client"
        value: object = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'runnerkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
