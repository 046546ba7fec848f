"""``uvicorn_config``: usable by uvicorn's multiprocess supervisor; readiness and health."""

from __future__ import annotations

import asyncio
import json
import pickle
import threading
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from runnerkit.server.connections import AutoProtocol
from runnerkit.server.health import (
    NOT_SERVING,
    SERVING,
    HealthCheckRequest,
    HealthService,
    Readiness,
)
from runnerkit.server.http_server import uvicorn_config
from runnerkit.server.sockets import bind
from tests.support.server import app_on_fresh_store

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from runnerkit.server.asgi import ASGIApp, Receive, Scope, Send


async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = json.dumps({"http_version": scope["http_version"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def make_hello() -> ASGIApp:
    """An app factory, named by import string as worker processes need."""
    return _hello


def test_config_takes_an_import_string_factory_and_pickles():
    config = uvicorn_config(f"{__name__}:make_hello", factory=True, workers=2)
    restored = pickle.loads(pickle.dumps(config))  # noqa: S301 - as the supervisor hands it on
    assert restored.workers == 2
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(restored)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert restored.http_protocol_class is AutoProtocol
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        with urllib.request.urlopen(url, timeout=20) as response:
            assert json.loads(response.read()) == {"http_version": "1.1"}
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def test_tls_cert_and_key_go_together():
    with pytest.raises(ValueError, match="go together"):
        uvicorn_config(make_hello(), tls_cert="cert.pem")


async def _get(app: ASGIApp, path: str) -> tuple[int, Any]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


async def _lifespan_startup(app: ASGIApp) -> None:
    messages = [{"type": "lifespan.startup"}]
    started = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # never: the server would send shutdown later
        return {}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    task = asyncio.ensure_future(app({"type": "lifespan"}, receive, send))
    await started.wait()
    task.cancel()


def test_readyz_waits_for_start_up_and_the_store(tmp_path):
    with app_on_fresh_store(tmp_path) as (app, _):

        async def scenario() -> None:
            assert await _get(app, "/readyz") == (503, {"status": "unavailable"})
            assert (await _get(app, "/healthz"))[0] == 200
            await _lifespan_startup(app)
            assert await _get(app, "/readyz") == (200, {"status": "ready"})

        asyncio.run(scenario())


class _BrokenStore:
    def count_subjects(self) -> int:
        msg = "database is unreachable"
        raise OSError(msg)


def test_health_reports_the_store():
    async def scenario() -> None:
        broken = Readiness(_BrokenStore())
        broken.started = True
        assert await broken.ready() is False
        service = HealthService(broken, ["gitpod.v1.RunnerService"])
        response = await service.check(HealthCheckRequest(service=""), None)  # type: ignore[arg-type]
        assert response.status == NOT_SERVING  # type: ignore[attr-defined]

        class Fine:
            def count_subjects(self) -> int:
                return 1

        fine = Readiness(Fine())
        fine.started = True
        service = HealthService(fine, ["gitpod.v1.RunnerService"])
        request = HealthCheckRequest(service="gitpod.v1.RunnerService")
        response = await service.check(request, None)  # type: ignore[arg-type]
        assert response.status == SERVING  # type: ignore[attr-defined]

    asyncio.run(scenario())
