"""The reference server's ASGI application: both services, ``/healthz``, the middleware.

Layers, outermost first: ``AccessLogMiddleware`` → ``CompatibilityMiddleware`` → the router,
which sends ``/gitpod.v1.RunnerService/*`` and ``/gitpod.v1.RunnerConfigurationService/*`` to
the generated Connect applications (interceptors: authentication first, then the schema's
request rules, then error mapping)
and answers ``GET /healthz``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, cast

from connectrpc.code import Code

from runnerkit.server.asgi import send_json
from runnerkit.server.auth import AuthInterceptor, SubjectCache
from runnerkit.server.codecs import server_codecs
from runnerkit.server.errors import ErrorInterceptor
from runnerkit.server.handlers.runner_configuration_service import (
    RunnerConfigurationServiceHandler,
)
from runnerkit.server.handlers.runner_service import RunnerServiceHandler
from runnerkit.server.middleware import MAX_BODY_BYTES, AccessLogMiddleware, CompatibilityMiddleware
from runnerkit.server.request_validation import RequestValidationInterceptor
from runnerkit_proto.gitpod.v1 import (
    runner_configuration_connect,
    runner_configuration_pb2,
    runner_connect,
    runner_pb2,
)

if TYPE_CHECKING:
    from runnerkit.server.asgi import ASGIApp, Receive, Scope, Send
    from runnerkit.server.service import Services
    from runnerkit.server.testapi import TestHooks

HEALTH_PATH = "/healthz"
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
    def __init__(self, services: Services, mounts: dict[str, ASGIApp]) -> None:
        self._services = services
        self._mounts = mounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            await self._health(send)
            return
        prefix = path[: path.rfind("/") + 1]
        app = self._mounts.get(prefix)
        if app is None:
            await send_json(
                send,
                404,
                {"code": Code.UNIMPLEMENTED.value, "message": f"no such path {path[:200]}"},
                [],
            )
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


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(services: Services, *, test_hooks: TestHooks | None = None) -> ASGIApp:
    """Build the ASGI application.

    Args:
        services: Store, master key, page tokens and clock for the handlers.
        test_hooks: The testing kit's journal, faults, clock and ``/_runnerkit/*`` routes
            (``runnerkit.server.testapi``); None (the default) for a plain server.

    Returns:
        The application, ready for uvicorn (or any ASGI server / test transport).
    """
    # Test servers: the hooks' clock, no subject cache (a reset must forget subjects at once).
    services = test_hooks.services if test_hooks else services
    first, after_auth = test_hooks.interceptors() if test_hooks else ((), ())
    auth = AuthInterceptor(services.store, SubjectCache(ttl_s=0) if test_hooks else None)
    interceptors = (*first, auth, *after_auth, RequestValidationInterceptor(), ErrorInterceptor())
    runner_app = runner_connect.RunnerServiceASGIApplication(
        RunnerServiceHandler(services),
        interceptors=interceptors,
        read_max_bytes=MAX_BODY_BYTES,
        codecs=server_codecs(),
    )
    config_app = runner_configuration_connect.RunnerConfigurationServiceASGIApplication(
        RunnerConfigurationServiceHandler(services),
        interceptors=interceptors,
        read_max_bytes=MAX_BODY_BYTES,
        codecs=server_codecs(),
    )
    mounts = {
        "/gitpod.v1.RunnerService/": cast("ASGIApp", runner_app),
        "/gitpod.v1.RunnerConfigurationService/": cast("ASGIApp", config_app),
    }
    router = _Router(services, mounts)
    app = AccessLogMiddleware(CompatibilityMiddleware(router, paginated_paths()))
    return test_hooks.wrap(app) if test_hooks else app
