"""``Client`` and ``AsyncClient``: settings, the generated service clients, and the facade root.

Everything but the awaiting is shared: :class:`_Settings` resolves the configuration once, the
invokers differ only in ``await``, and the resource classes (``client.runners`` …) are the same
generic classes for both.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from connectrpc.compat import google_protobuf_binary_codec
from connectrpc.compression.gzip import GzipCompression
from connectrpc.errors import ConnectError
from google.protobuf import json_format

from runnerkit.client._rpc import Async, Sync
from runnerkit.client.auth import BearerAuth, resolve_base_url, resolve_token
from runnerkit.client.errors import from_connect_error
from runnerkit.client.pagination import AsyncPage, Page
from runnerkit.client.resources.runners import RunnersResource
from runnerkit.client.retry import RetryInterceptor, RetryPolicy
from runnerkit_proto.gitpod.v1 import runner_configuration_connect, runner_connect

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import TracebackType
    from typing import Self

    from connectrpc.codec import Codec
    from connectrpc.compression import Compression
    from google.protobuf.message import Message
    from pyqwest import Client as HTTPClient
    from pyqwest import SyncClient as HTTPSyncClient

    from runnerkit.client._api import AsyncRunnersAPI, RunnersAPI
    from runnerkit.client._rpc import CallOptions, RpcSpec

__all__ = ["DEFAULT_TIMEOUT", "AsyncClient", "Client", "CompactJSONCodec"]

DEFAULT_TIMEOUT = 60.0
C = TypeVar("C")
_RUNNER = "gitpod.v1.RunnerService"
_CONFIGURATION = "gitpod.v1.RunnerConfigurationService"


class CompactJSONCodec:
    """Connect JSON codec for google protobuf messages, without pretty-printing."""

    def name(self) -> str:
        """The Connect codec name.

        Returns:
            ``"json"``.
        """
        return "json"

    def encode(self, message: Message) -> bytes:
        """Serialise ``message`` as compact protobuf JSON.

        Args:
            message: Any google protobuf message.

        Returns:
            UTF-8 JSON bytes (lowerCamelCase names, enums by name).
        """
        value = json_format.MessageToDict(message)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    def decode(self, data: bytes | bytearray, message_class: type[Any]) -> Any:  # noqa: ANN401
        """Parse protobuf JSON, ignoring unknown fields (forward compatibility).

        Args:
            data: The JSON body.
            message_class: The generated message class.

        Returns:
            The parsed message.
        """
        message = message_class()
        json_format.Parse(bytes(data), message, ignore_unknown_fields=True)
        return message


@dataclass(frozen=True)
class _Settings:
    base_url: str
    token: str
    timeout: float | None
    codec: Codec[Any, Any]
    compression: Compression | None
    retry: RetryPolicy
    validate: bool = False

    @staticmethod
    def resolve(
        *,
        bearer_token: str | None,
        base_url: str | None,
        timeout: float | None,
        max_retries: int | None,
        retry_policy: RetryPolicy | None,
        codec: Literal["proto", "json"],
        compression: Literal["gzip"] | None,
        validate: bool = False,
    ) -> _Settings:
        if codec not in ("proto", "json"):
            raise ValueError(f"codec must be 'proto' or 'json', got {codec!r}")
        policy = retry_policy or RetryPolicy()
        if max_retries is not None:
            policy = dataclasses.replace(policy, max_retries=max_retries)
        return _Settings(
            base_url=resolve_base_url(base_url),
            token=resolve_token(bearer_token),
            timeout=timeout,
            codec=CompactJSONCodec() if codec == "json" else google_protobuf_binary_codec(),
            compression=GzipCompression() if compression == "gzip" else None,
            retry=policy,
            validate=validate,
        )

    def build(self, client_class: Callable[..., C], http_client: object | None) -> C:
        """Instantiate a generated client class with these settings."""
        return client_class(
            self.base_url,
            codec=self.codec,
            send_compression=self.compression,
            timeout_ms=None if self.timeout is None else round(self.timeout * 1000),
            interceptors=(
                BearerAuth(self.token),
                *([_request_rules()] if self.validate else []),
                RetryInterceptor(self.retry),
            ),
            http_client=http_client,
        )


def _request_rules() -> Any:  # noqa: ANN401 - client.validation.RequestRules
    # Imported only for validate=True: it needs the optional protovalidate.
    from runnerkit.client.validation import RequestRules  # noqa: PLC0415

    return RequestRules()


class _SyncInvoker:
    def __init__(self, services: Mapping[str, Any]) -> None:
        self._services = services

    def _call(self, spec: RpcSpec, options: CallOptions, request: Message) -> Message:
        method = getattr(self._services[spec.service], spec.method)
        try:
            response: Message = method(
                request, headers=options.headers, timeout_ms=options.timeout_ms
            )
        except ConnectError as error:
            raise from_connect_error(error) from error
        return response

    def unary(self, spec: RpcSpec, request: Message, options: CallOptions) -> Message:
        return self._call(spec, options, request)

    def list(self, spec: RpcSpec, request: Message, options: CallOptions) -> Page[Any]:
        fetch = functools.partial(self._call, spec, options)
        return Page(request, fetch(request), spec.items or "", fetch)


class _AsyncInvoker:
    def __init__(self, services: Mapping[str, Any]) -> None:
        self._services = services

    async def _call(self, spec: RpcSpec, options: CallOptions, request: Message) -> Message:
        method = getattr(self._services[spec.service], spec.method)
        try:
            response: Message = await method(
                request, headers=options.headers, timeout_ms=options.timeout_ms
            )
        except ConnectError as error:
            raise from_connect_error(error) from error
        return response

    def unary(self, spec: RpcSpec, request: Message, options: CallOptions) -> Any:  # noqa: ANN401
        return self._call(spec, options, request)

    async def list(self, spec: RpcSpec, request: Message, options: CallOptions) -> AsyncPage[Any]:
        fetch = functools.partial(self._call, spec, options)
        return AsyncPage(request, await fetch(request), spec.items or "", fetch)


_DOC_ARGS = """
    Args:
        bearer_token: API token; default ``$GITPOD_API_KEY``. Required one way or the other.
        base_url: API root; default ``$GITPOD_BASE_URL``, else ``https://app.gitpod.io/api``.
        timeout: Seconds per call, retries included (None: no limit). Default 60.
        max_retries: Shortcut for ``RetryPolicy(max_retries=...)``; 0 disables retries.
        retry_policy: Full retry settings (see :class:`~runnerkit.client.retry.RetryPolicy`).
        codec: ``"proto"`` (binary protobuf, default) or ``"json"`` (Connect JSON).
        compression: ``"gzip"`` (default) compresses requests; None sends them plain.
        http_client: A pyqwest client to use (e.g. for TLS settings or in-process tests).
        validate: Check each request against the schema's rules before sending it; a
            request that breaks one raises ``InvalidArgumentError`` without a network call.
            Needs ``pip install 'runnerkit[validate]'``. Default off.

    Raises:
        ConfigurationError: No bearer token, or a base URL that is not http(s).
"""


class Client:
    """Blocking client for the Runner API: ``client.runners.*`` plus the generated clients."""

    __doc__ = (__doc__ or "") + _DOC_ARGS

    def __init__(
        self,
        *,
        bearer_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        codec: Literal["proto", "json"] = "proto",
        compression: Literal["gzip"] | None = "gzip",
        http_client: HTTPSyncClient | None = None,
        validate: bool = False,
    ) -> None:
        settings = _Settings.resolve(
            bearer_token=bearer_token,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            codec=codec,
            compression=compression,
            validate=validate,
        )
        self.base_url = settings.base_url
        self.runner_service = settings.build(runner_connect.RunnerServiceClientSync, http_client)
        """The generated ``RunnerServiceClientSync`` (auth and retries included)."""
        self.runner_configuration_service = settings.build(
            runner_configuration_connect.RunnerConfigurationServiceClientSync, http_client
        )
        """The generated ``RunnerConfigurationServiceClientSync``."""
        invoker = _SyncInvoker(
            {_RUNNER: self.runner_service, _CONFIGURATION: self.runner_configuration_service}
        )
        self.runners: RunnersAPI = RunnersResource[Sync](invoker)
        """``client.runners``: the facade, shaped like the reference SDK."""

    def close(self) -> None:
        """Close the generated clients (an ``http_client`` you passed in stays open)."""
        self.runner_service.close()
        self.runner_configuration_service.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"


class AsyncClient:
    """Async client for the Runner API: ``await client.runners.*`` plus the generated clients."""

    __doc__ = (__doc__ or "") + _DOC_ARGS

    def __init__(
        self,
        *,
        bearer_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        codec: Literal["proto", "json"] = "proto",
        compression: Literal["gzip"] | None = "gzip",
        http_client: HTTPClient | None = None,
        validate: bool = False,
    ) -> None:
        settings = _Settings.resolve(
            bearer_token=bearer_token,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            codec=codec,
            compression=compression,
            validate=validate,
        )
        self.base_url = settings.base_url
        self.runner_service = settings.build(runner_connect.RunnerServiceClient, http_client)
        """The generated ``RunnerServiceClient`` (auth and retries included)."""
        self.runner_configuration_service = settings.build(
            runner_configuration_connect.RunnerConfigurationServiceClient, http_client
        )
        """The generated ``RunnerConfigurationServiceClient``."""
        invoker = _AsyncInvoker(
            {_RUNNER: self.runner_service, _CONFIGURATION: self.runner_configuration_service}
        )
        self.runners: AsyncRunnersAPI = RunnersResource[Async](invoker)
        """``client.runners``: the facade, shaped like the reference SDK."""

    async def close(self) -> None:
        """Close the generated clients (an ``http_client`` you passed in stays open)."""
        await self.runner_service.close()
        await self.runner_configuration_service.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"
