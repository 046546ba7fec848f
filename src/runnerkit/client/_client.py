"""``Client`` and ``AsyncClient``: settings, the generated service clients, and the facade root.

Everything but the awaiting is shared: :class:`_Settings` resolves the configuration once, the
invokers differ only in ``await``, and the resource classes (``client.runners`` …) are the same
generic classes for both.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pyqwest
from connectrpc.client import ConnectClient, ConnectClientSync, ResponseMetadata
from connectrpc.compression.gzip import GzipCompression
from connectrpc.errors import ConnectError

from runnerkit.client._rpc import Async, Sync
from runnerkit.client.auth import BearerAuth, resolve_base_url, resolve_token
from runnerkit.client.codecs import BinaryCodec, CompactJSONCodec
from runnerkit.client.errors import ConfigurationError, from_connect_error
from runnerkit.client.pagination import AsyncPage, AsyncPaginator, Page
from runnerkit.client.resources.runners import RunnersResource
from runnerkit.client.results import APIResponse
from runnerkit.client.retry import RetryInterceptor, RetryPolicy

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from types import TracebackType
    from typing import Self

    from connectrpc.codec import Codec
    from connectrpc.compression import Compression
    from google.protobuf.message import Message
    from pyqwest import Client as HTTPClient
    from pyqwest import SyncClient as HTTPSyncClient

    from runnerkit.client._api import AsyncRunnersAPI, RunnersAPI
    from runnerkit.client._rpc import Invoker, RpcSpec
    from runnerkit_proto.gitpod.v1 import runner_configuration_connect, runner_connect

__all__ = ["DEFAULT_TIMEOUT", "AsyncClient", "BinaryCodec", "Client", "CompactJSONCodec"]

DEFAULT_TIMEOUT = 60.0
DEFAULT_COMPRESS_MIN_BYTES = 1024
C = TypeVar("C")
_RUNNER = "gitpod.v1.RunnerService"
_CONFIGURATION = "gitpod.v1.RunnerConfigurationService"


@dataclass(frozen=True)
class _Settings:
    base_url: str
    token: str
    timeout: float | None
    codec: Codec[Any, Any]
    compression: Compression | None
    compress_min_bytes: int
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
        compress_min_bytes: int,
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
            codec=CompactJSONCodec() if codec == "json" else BinaryCodec(),
            compression=GzipCompression() if compression == "gzip" else None,
            compress_min_bytes=compress_min_bytes,
            retry=policy,
            validate=validate,
        )

    def build(
        self, client_class: Callable[..., C], http_client: object | None, *, compress: bool = True
    ) -> C:
        """Instantiate a generated client class with these settings."""
        return client_class(
            self.base_url,
            codec=self.codec,
            send_compression=self.compression if compress else None,
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


def _generated(module: str, name: str) -> Callable[..., Any]:
    """A generated client class, imported on first use (it pulls in connectrpc's server)."""

    def build(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        cls = getattr(importlib.import_module(f"runnerkit_proto.gitpod.v1.{module}"), name)
        return cls(*args, **kwargs)

    return build


class _Services:
    """The connectrpc clients of one facade client, built on first use.

    The facade calls through a plain ``ConnectClient(Sync)`` (it passes each RPC's description
    itself): requests of at least ``compress_min_bytes`` (encoded, binary) go through one that
    gzips, smaller ones through one that never compresses (as connect-go's
    ``WithCompressMinBytes``: compressing a few hundred bytes costs more time than it saves).
    ``exposed(service)`` is the generated client users reach as ``client.runner_service`` …;
    every generated method calls ``self.execute_unary``, which on these clients goes through
    the same routing (gzipping each small request cost ~50 µs of client CPU per call).
    """

    def __init__(
        self,
        settings: _Settings,
        facade_class: Callable[..., Any],
        generated: Mapping[str, Callable[..., Any]],
        http_client: object | None,
    ) -> None:
        self._settings = settings
        self._facade_class = facade_class
        self._generated = generated
        self._http_client = http_client
        self._exposed: dict[str, Any] = {}
        self._facade: dict[bool, Any] = {}
        self._compress = settings.compression is not None
        self._min_bytes = settings.compress_min_bytes

    def exposed(self, service: str) -> Any:  # noqa: ANN401 - a generated client class
        client = self._exposed.get(service)
        if client is None:
            client = self._settings.build(self._generated[service], self._http_client)
            if self._compress:
                client.execute_unary = self._execute_unary  # by request size, as the facade
            self._exposed[service] = client
        return client

    def _execute_unary(self, *, request: Message, **kwargs: Any) -> Any:  # noqa: ANN401
        return self.for_request(request).execute_unary(request=request, **kwargs)

    def for_request(self, request: Message) -> Any:  # noqa: ANN401
        compress = self._compress and request.ByteSize() >= self._min_bytes
        client = self._facade.get(compress)
        if client is None:
            client = self._facade[compress] = self._settings.build(
                self._facade_class, self._http_client, compress=compress
            )
        return client

    def built(self) -> list[Any]:
        return [*self._exposed.values(), *self._facade.values()]


def _timeout_ms(timeout: float | None) -> int | None:
    return None if timeout is None else max(1, round(timeout * 1000))


class _SyncInvoker:
    def __init__(self, services: _Services) -> None:
        self._services = services

    def _call(
        self,
        spec: RpcSpec,
        timeout: float | None,
        headers: Mapping[str, str] | None,
        request: Message,
    ) -> Message:
        client = self._services.for_request(request)
        try:
            response: Message = client.execute_unary(
                request=request,
                method=spec.method_info,
                headers=headers,
                timeout_ms=None if timeout is None else _timeout_ms(timeout),
            )
        except ConnectError as error:
            raise from_connect_error(error) from error
        return response

    def unary(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> Message:
        return self._call(spec, timeout, headers, request)

    def list(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> Page[Any]:
        fetch = functools.partial(self._call, spec, timeout, headers)
        return Page(request, fetch(request), spec.items or "", fetch)

    def raw(self) -> Invoker:
        return _RawSyncInvoker(self)


class _RawSyncInvoker:
    def __init__(self, inner: _SyncInvoker) -> None:
        self._inner = inner

    def unary(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> APIResponse[Message]:
        with ResponseMetadata() as meta:
            parsed = self._inner.unary(spec, request, timeout, headers)
        return APIResponse(parsed, meta)

    def list(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> APIResponse[Page[Any]]:
        with ResponseMetadata() as meta:
            parsed = self._inner.list(spec, request, timeout, headers)
        return APIResponse(parsed, meta)

    def raw(self) -> Invoker:
        return self


class _AsyncInvoker:
    def __init__(self, services: _Services) -> None:
        self._services = services

    async def _call(
        self,
        spec: RpcSpec,
        timeout: float | None,
        headers: Mapping[str, str] | None,
        request: Message,
    ) -> Message:
        client = self._services.for_request(request)
        try:
            response: Message = await client.execute_unary(
                request=request,
                method=spec.method_info,
                headers=headers,
                timeout_ms=None if timeout is None else _timeout_ms(timeout),
            )
        except ConnectError as error:
            raise from_connect_error(error) from error
        return response

    def unary(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> Awaitable[Message]:
        return self._call(spec, timeout, headers, request)

    async def first_page(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> AsyncPage[Any]:
        fetch = functools.partial(self._call, spec, timeout, headers)
        return AsyncPage(request, await fetch(request), spec.items or "", fetch)

    def list(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> AsyncPaginator[Any]:
        return AsyncPaginator(functools.partial(self.first_page, spec, request, timeout, headers))

    def raw(self) -> Invoker:
        return _RawAsyncInvoker(self)


class _RawAsyncInvoker:
    def __init__(self, inner: _AsyncInvoker) -> None:
        self._inner = inner

    async def unary(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> APIResponse[Message]:
        with ResponseMetadata() as meta:
            parsed = await self._inner.unary(spec, request, timeout, headers)
        return APIResponse(parsed, meta)

    async def list(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> APIResponse[AsyncPage[Any]]:
        with ResponseMetadata() as meta:
            parsed = await self._inner.first_page(spec, request, timeout, headers)
        return APIResponse(parsed, meta)

    def raw(self) -> Invoker:
        return self


_DOC_ARGS = """
    Args:
        bearer_token: API token; default ``$GITPOD_API_KEY``. Required one way or the other.
        base_url: API root; default ``$GITPOD_BASE_URL``, else ``https://app.gitpod.io/api``.
        timeout: Seconds per call, retries included (None: no limit). Default 60.
        max_retries: Shortcut for ``RetryPolicy(max_retries=...)``; 0 disables retries.
        retry_policy: Full retry settings (see :class:`~runnerkit.client.retry.RetryPolicy`).
        codec: ``"proto"`` (binary protobuf, default) or ``"json"`` (Connect JSON).
        compression: ``"gzip"`` (default) compresses requests of at least
            ``compress_min_bytes``; None sends every request plain.
        compress_min_bytes: Smaller requests are sent plain (default 1024 bytes).
        http_client: A pyqwest client to use (e.g. for TLS settings or in-process tests):
            a ``pyqwest.SyncClient`` for ``Client``, a ``pyqwest.Client`` for ``AsyncClient``.
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
        compress_min_bytes: int = DEFAULT_COMPRESS_MIN_BYTES,
        http_client: HTTPSyncClient | None = None,
        validate: bool = False,
    ) -> None:
        if isinstance(http_client, pyqwest.Client):
            raise ConfigurationError(
                f"Client needs a pyqwest.SyncClient as http_client, got {type(http_client).__name__}"
                " (use AsyncClient with a pyqwest.Client, e.g. over pyqwest.testing.ASGITransport)"
            )
        settings = _Settings.resolve(
            bearer_token=bearer_token,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            codec=codec,
            compression=compression,
            compress_min_bytes=compress_min_bytes,
            validate=validate,
        )
        self.base_url = settings.base_url
        self._services = _Services(
            settings,
            ConnectClientSync,
            {
                _RUNNER: _generated("runner_connect", "RunnerServiceClientSync"),
                _CONFIGURATION: _generated(
                    "runner_configuration_connect", "RunnerConfigurationServiceClientSync"
                ),
            },
            http_client,
        )
        self.runners: RunnersAPI = RunnersResource[Sync](_SyncInvoker(self._services))
        """``client.runners``: the facade, shaped like the reference SDK."""

    @property
    def runner_service(self) -> runner_connect.RunnerServiceClientSync:
        """The generated ``RunnerServiceClientSync`` (auth and retries included)."""
        client: runner_connect.RunnerServiceClientSync = self._services.exposed(_RUNNER)
        return client

    @property
    def runner_configuration_service(
        self,
    ) -> runner_configuration_connect.RunnerConfigurationServiceClientSync:
        """The generated ``RunnerConfigurationServiceClientSync`` (auth and retries included)."""
        client: runner_configuration_connect.RunnerConfigurationServiceClientSync = (
            self._services.exposed(_CONFIGURATION)
        )
        return client

    def close(self) -> None:
        """Close the generated clients (an ``http_client`` you passed in stays open)."""
        for client in self._services.built():
            client.close()

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
        compress_min_bytes: int = DEFAULT_COMPRESS_MIN_BYTES,
        http_client: HTTPClient | None = None,
        validate: bool = False,
    ) -> None:
        if isinstance(http_client, pyqwest.SyncClient):
            raise ConfigurationError(
                "AsyncClient needs a pyqwest.Client as http_client, got a pyqwest.SyncClient"
                " (use Client for that)"
            )
        settings = _Settings.resolve(
            bearer_token=bearer_token,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            codec=codec,
            compression=compression,
            compress_min_bytes=compress_min_bytes,
            validate=validate,
        )
        self.base_url = settings.base_url
        self._services = _Services(
            settings,
            ConnectClient,
            {
                _RUNNER: _generated("runner_connect", "RunnerServiceClient"),
                _CONFIGURATION: _generated(
                    "runner_configuration_connect", "RunnerConfigurationServiceClient"
                ),
            },
            http_client,
        )
        self.runners: AsyncRunnersAPI = RunnersResource[Async](_AsyncInvoker(self._services))
        """``client.runners``: the facade, shaped like the reference SDK."""

    @property
    def runner_service(self) -> runner_connect.RunnerServiceClient:
        """The generated ``RunnerServiceClient`` (auth and retries included)."""
        client: runner_connect.RunnerServiceClient = self._services.exposed(_RUNNER)
        return client

    @property
    def runner_configuration_service(
        self,
    ) -> runner_configuration_connect.RunnerConfigurationServiceClient:
        """The generated ``RunnerConfigurationServiceClient`` (auth and retries included)."""
        client: runner_configuration_connect.RunnerConfigurationServiceClient = (
            self._services.exposed(_CONFIGURATION)
        )
        return client

    async def close(self) -> None:
        """Close the generated clients (an ``http_client`` you passed in stays open)."""
        for client in self._services.built():
            await client.close()

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
