"""Readiness (``/readyz``) and the gRPC health checking protocol (``grpc.health.v1.Health``).

``Readiness`` is ready once the app's start-up (ASGI lifespan) has finished and while the store
answers a trivial read. ``Health/Check`` answers ``SERVING`` or ``NOT_SERVING`` from it for the
server as a whole (``service=""``) and for each of our services; an unknown service name is
``not_found``, as the protocol says. ``Health/Watch`` sends the status, then every change.

The health messages are built here from their descriptor (grpc/health/v1/health.proto has two
messages and one enum) in a private descriptor pool, so nothing clashes with a
``grpcio-health-checking`` imported into the same process, and no generated code is vendored.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Protocol, cast

from connectrpc.code import Code
from connectrpc.compat import google_protobuf_codecs
from connectrpc.errors import ConnectError
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from connectrpc.server import ConnectASGIApplication, Endpoint
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping

    from connectrpc.request import RequestContext
    from google.protobuf.descriptor import FileDescriptor
    from google.protobuf.message import Message

    from runnerkit.server.asgi import ASGIApp

_log = logging.getLogger("runnerkit.server")

HEALTH_SERVICE = "grpc.health.v1.Health"
_PACKAGE = "grpc.health.v1"
SERVING, NOT_SERVING, SERVICE_UNKNOWN = 1, 2, 3
WATCH_INTERVAL_S = 2.0


class _Store(Protocol):
    def count_subjects(self) -> int: ...


class Readiness:
    """Whether the server can serve: start-up finished and the store is reachable.

    Args:
        store: Anything with a cheap ``count_subjects()`` read (the store).
    """

    def __init__(self, store: _Store) -> None:
        self._store = store
        self.started = False

    async def ready(self) -> bool:
        """True once started and while the store answers a read."""
        if not self.started:
            return False
        try:
            await asyncio.to_thread(self._store.count_subjects)
        except Exception:  # noqa: BLE001 - any failure means not ready; logged
            _log.exception("readiness check: the store did not answer")
            return False
        return True


def _health_file() -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto(
        name="grpc/health/v1/health.proto", package=_PACKAGE, syntax="proto3"
    )
    field = descriptor_pb2.FieldDescriptorProto
    request = fdp.message_type.add(name="HealthCheckRequest")
    request.field.add(
        name="service", json_name="service", number=1,
        type=field.TYPE_STRING, label=field.LABEL_OPTIONAL,
    )  # fmt: skip
    response = fdp.message_type.add(name="HealthCheckResponse")
    status = response.enum_type.add(name="ServingStatus")
    for number, name in enumerate(("UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN")):
        status.value.add(name=name, number=number)
    response.field.add(
        name="status", json_name="status", number=1, type=field.TYPE_ENUM,
        type_name=f".{_PACKAGE}.HealthCheckResponse.ServingStatus", label=field.LABEL_OPTIONAL,
    )  # fmt: skip
    service = fdp.service.add(name="Health")
    for name, streaming in (("Check", False), ("Watch", True)):
        service.method.add(
            name=name,
            input_type=f".{_PACKAGE}.HealthCheckRequest",
            output_type=f".{_PACKAGE}.HealthCheckResponse",
            server_streaming=streaming,
        )
    return fdp


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_health_file())
HEALTH_FILE: FileDescriptor = _POOL.FindFileByName("grpc/health/v1/health.proto")
HealthCheckRequest: type[Message] = message_factory.GetMessageClass(
    _POOL.FindMessageTypeByName(f"{_PACKAGE}.HealthCheckRequest")
)
HealthCheckResponse: type[Message] = message_factory.GetMessageClass(
    _POOL.FindMessageTypeByName(f"{_PACKAGE}.HealthCheckResponse")
)


class HealthService:
    """``grpc.health.v1.Health``: Check and Watch from a ``Readiness``.

    Args:
        readiness: The server's readiness.
        services: Fully-qualified names of the services served (each reported like the whole).
    """

    def __init__(self, readiness: Readiness, services: Iterable[str]) -> None:
        self._readiness = readiness
        self._services = frozenset(services) | {""}

    async def _status(self, service: str) -> int:
        if service not in self._services:
            return SERVICE_UNKNOWN
        return SERVING if await self._readiness.ready() else NOT_SERVING

    async def check(self, request: Message, _ctx: RequestContext[Any, Any], /) -> Message:
        """The current status; ``not_found`` for a service that is not served."""
        service: str = getattr(request, "service", "")
        status = await self._status(service)
        if status == SERVICE_UNKNOWN:
            raise ConnectError(Code.NOT_FOUND, f"unknown service {service[:200]!r}")
        return HealthCheckResponse(status=status)

    async def watch(
        self, request: Message, _ctx: RequestContext[Any, Any], /
    ) -> AsyncIterator[Message]:
        """The current status, then each change (checked every couple of seconds)."""
        service: str = getattr(request, "service", "")
        last = None
        while True:
            status = await self._status(service)
            if status != last:
                yield HealthCheckResponse(status=status)
                last = status
            await asyncio.sleep(WATCH_INTERVAL_S)


def _method(name: str, stream_type: StreamType) -> MethodInfo[Message, Message]:
    return MethodInfo(
        name=name,
        service_name=HEALTH_SERVICE,
        input=HealthCheckRequest,
        output=HealthCheckResponse,
        idempotency_level=IdempotencyLevel.NO_SIDE_EFFECTS,
        stream_type=stream_type,
    )


class _HealthApp(ConnectASGIApplication[HealthService]):
    @property
    def path(self) -> str:
        return f"/{HEALTH_SERVICE}"


def health_app(readiness: Readiness, services: Iterable[str]) -> ASGIApp:
    """The ASGI app serving ``grpc.health.v1.Health`` (no authentication, like the probes)."""

    def endpoints(svc: HealthService) -> Mapping[str, Any]:
        return {
            f"/{HEALTH_SERVICE}/Check": Endpoint.unary(
                method=_method("Check", StreamType.UNARY), function=svc.check
            ),
            f"/{HEALTH_SERVICE}/Watch": Endpoint.server_stream(
                method=_method("Watch", StreamType.SERVER_STREAM), function=svc.watch
            ),
        }

    app = _HealthApp(
        service=HealthService(readiness, services),
        endpoints=endpoints,
        codecs=google_protobuf_codecs(),
    )
    return cast("ASGIApp", app)
