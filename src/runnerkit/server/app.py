"""The reference server's ASGI application: both services, ``/healthz``, the middleware.

Layers, outermost first: ``CompatibilityMiddleware`` (contracts and access log) → the router,
which sends ``/gitpod.v1.RunnerService/*`` and ``/gitpod.v1.RunnerConfigurationService/*`` to
the generated Connect applications (interceptors: authentication first, then
``pipeline.RequestPipeline``: the text rules of ``input_checks.py`` (NUL), the schema's request
rules, then the handler with error mapping),
``grpc.health.v1.Health`` and gRPC server reflection (v1, v1alpha) to their apps (no
authentication), and answers ``GET /healthz`` (liveness) and ``GET /readyz`` (readiness: 503
until start-up has finished and while the store does not answer).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, cast

from runnerkit.server.asgi import send_json
from runnerkit.server.auth import AuthInterceptor, SubjectCache
from runnerkit.server.codecs import server_codecs
from runnerkit.server.handlers.execution import Executor
from runnerkit.server.handlers.runner_configuration_service import (
    RunnerConfigurationServiceHandler,
)
from runnerkit.server.handlers.runner_service import RunnerServiceHandler
from runnerkit.server.health import HEALTH_FILE, Readiness, health_app
from runnerkit.server.middleware import MAX_BODY_BYTES, CompatibilityMiddleware
from runnerkit.server.pipeline import RequestPipeline
from runnerkit.server.reflection import reflection_apps
from runnerkit.server.unimplemented import send_unimplemented
from runnerkit_proto.gitpod.v1 import (
    runner_configuration_connect,
    runner_configuration_pb2,
    runner_connect,
    runner_pb2,
)

if TYPE_CHECKING:
    from runnerkit.server.access_log import AccessLog
    from runnerkit.server.asgi import ASGIApp, Receive, Scope, Send
    from runnerkit.server.service import Services
    from runnerkit.server.testapi import TestHooks

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
SERVICES = ("gitpod.v1.RunnerService", "gitpod.v1.RunnerConfigurationService")
_log = logging.getLogger("runnerkit.server")


def paginated_paths() -> list[str]:
    """URL paths of the RPCs whose request has a ``pagination`` field (query overrides)."""
    paths = []
    for module in (runner_pb2, runner_configuration_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                if "pagination" in method.input_type.fields_by_name:
                    paths.append(f"/{service.full_name}/{method.name}")
    return sorted(paths)


class _Router:
    def __init__(
        self, services: Services, mounts: dict[str, ASGIApp], readiness: Readiness
    ) -> None:
        self._services = services
        self._mounts = mounts
        self._readiness = readiness
        self._methods = frozenset(_method_paths())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self._readiness)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            await self._health(send)
            return
        if path == READY_PATH and scope["method"] in ("GET", "HEAD"):
            ready = await self._readiness.ready()
            body = {"status": "ready" if ready else "unavailable"}
            await send_json(send, 200 if ready else 503, body, [])
            return
        prefix = path[: path.rfind("/") + 1]
        app = self._mounts.get(prefix)
        if app is None or path not in self._methods:
            await send_unimplemented(scope, send)
            return
        await app(scope, receive, send)

    async def _health(self, send: Send) -> None:
        try:
            await asyncio.to_thread(self._services.store.count_subjects)
        except Exception:  # noqa: BLE001 - any failure means unhealthy; logged
            _log.exception("health check failed")
            await send_json(send, 503, {"status": "unavailable"}, [])
            return
        await send_json(send, 200, {"status": "ok"}, [])


def _method_paths() -> list[str]:
    """URL paths of every method served (our services, health, reflection)."""
    files = (runner_pb2.DESCRIPTOR, runner_configuration_pb2.DESCRIPTOR, HEALTH_FILE)
    paths = [
        f"/{service.full_name}/{method.name}"
        for file in files
        for service in file.services_by_name.values()
        for method in service.methods
    ]
    reflection = ("grpc.reflection.v1", "grpc.reflection.v1alpha")
    return paths + [f"/{package}.ServerReflection/ServerReflectionInfo" for package in reflection]


async def _lifespan(receive: Receive, send: Send, readiness: Readiness) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            readiness.started = True
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            readiness.started = False
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(
    services: Services,
    *,
    test_hooks: TestHooks | None = None,
    access_log: AccessLog | None = None,
) -> ASGIApp:
    """Build the ASGI application.

    Args:
        services: Store, master key, page tokens and clock for the handlers.
        test_hooks: The testing kit's journal, faults, clock and ``/_runnerkit/*`` routes
            (``runnerkit.server.testapi``); None (the default) for a plain server.
        access_log: Where access lines go (``server/access_log.py``); by default the
            ``runnerkit.server.access`` logger.

    Returns:
        The application, ready for uvicorn (or any ASGI server / test transport).
    """
    # Test servers: the hooks' clock, no subject cache (a reset must forget subjects at once).
    services = test_hooks.services if test_hooks else services
    first, after_auth = test_hooks.interceptors() if test_hooks else ((), ())
    executor = Executor.for_store(services.store)
    cache = SubjectCache(ttl_s=0) if test_hooks else None
    auth = AuthInterceptor(services.store, cache, executor=executor)
    interceptors = (*first, auth, *after_auth, RequestPipeline())
    runner_app = runner_connect.RunnerServiceASGIApplication(
        RunnerServiceHandler(services, executor),
        interceptors=interceptors,
        read_max_bytes=MAX_BODY_BYTES,
        codecs=server_codecs(),
    )
    config_app = runner_configuration_connect.RunnerConfigurationServiceASGIApplication(
        RunnerConfigurationServiceHandler(services, executor),
        interceptors=interceptors,
        read_max_bytes=MAX_BODY_BYTES,
        codecs=server_codecs(),
    )
    mounts = {
        "/gitpod.v1.RunnerService/": cast("ASGIApp", runner_app),
        "/gitpod.v1.RunnerConfigurationService/": cast("ASGIApp", config_app),
    }
    readiness = Readiness(services.store)
    mounts.update(
        reflection_apps([runner_pb2.DESCRIPTOR, runner_configuration_pb2.DESCRIPTOR, HEALTH_FILE])
    )
    mounts["/grpc.health.v1.Health/"] = health_app(readiness, SERVICES)
    router = _Router(services, mounts, readiness)
    app = CompatibilityMiddleware(router, paginated_paths(), access_log)
    return test_hooks.wrap(app) if test_hooks else app
