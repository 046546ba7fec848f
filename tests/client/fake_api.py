"""A tiny in-memory Runner API served with the *generated* service applications.

This is a test double of the remote API for client-mechanics tests (retries, error mapping,
headers, codecs, pagination); behaviour tests run against the real reference server.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import uvicorn
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from google.protobuf import timestamp_pb2

from runnerkit_proto.gitpod.v1 import (
    runner_configuration_connect,
    runner_configuration_pb2,
    runner_connect,
    runner_pb2,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from connectrpc.request import RequestContext


EXCHANGE = "exchange-value"


@dataclass
class Failure:
    """Make the next ``times`` calls of an RPC fail with ``code`` (and headers)."""

    times: int
    code: Code = Code.UNAVAILABLE
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class State:
    runners: dict[str, runner_pb2.Runner] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    failures: dict[str, Failure] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    delay: float = 0.0

    def enter(self, name: str, request: Any, ctx: RequestContext[Any, Any]) -> None:
        self.calls[name] += 1
        self.requests.append((name, dict(ctx.request_headers.items()), request))
        if self.delay:
            time.sleep(self.delay)
        failure = self.failures.get(name)
        if failure and failure.times > 0:
            failure.times -= 1
            for key, value in failure.headers.items():
                ctx.response_headers[key] = value
            raise ConnectError(failure.code, f"injected {failure.code.value} for {name}")


class FakeRunnerService(runner_connect.RunnerService):
    def __init__(self, state: State) -> None:
        self.state = state

    async def create_runner(self, request, ctx):
        self.state.enter("CreateRunner", request, ctx)
        runner = runner_pb2.Runner(
            runner_id=str(uuid.uuid4()), name=request.name, provider=request.provider
        )
        runner.spec.CopyFrom(request.spec)
        runner.created_at.GetCurrentTime()
        self.state.runners[runner.runner_id] = runner
        return runner_pb2.CreateRunnerResponse(runner=runner, exchange_token=EXCHANGE)

    async def get_runner(self, request, ctx):
        self.state.enter("GetRunner", request, ctx)
        runner = self.state.runners.get(request.runner_id)
        if runner is None:
            raise ConnectError(Code.NOT_FOUND, f"runner {request.runner_id} not found")
        return runner_pb2.GetRunnerResponse(runner=runner)

    async def list_runners(self, request, ctx):
        self.state.enter("ListRunners", request, ctx)
        size = request.pagination.page_size or 25
        start = int(request.pagination.token or 0)
        items = list(self.state.runners.values())
        page = items[start : start + size]
        nxt = str(start + size) if start + size < len(items) else ""
        response = runner_pb2.ListRunnersResponse(runners=page)
        response.pagination.next_token = nxt
        return response

    async def update_runner(self, request, ctx):
        self.state.enter("UpdateRunner", request, ctx)
        return runner_pb2.UpdateRunnerResponse()

    async def delete_runner(self, request, ctx):
        self.state.enter("DeleteRunner", request, ctx)
        self.state.runners.pop(request.runner_id, None)
        return runner_pb2.DeleteRunnerResponse()


class FakeConfigurationService(runner_configuration_connect.RunnerConfigurationService):
    def __init__(self, state: State) -> None:
        self.state = state

    async def create_host_authentication_token(self, request, ctx):
        self.state.enter("CreateHostAuthenticationToken", request, ctx)
        token = runner_configuration_pb2.HostAuthenticationToken(
            id=str(uuid.uuid4()), host=request.host, runner_id=request.runner_id
        )
        token.expires_at.CopyFrom(request.expires_at)
        return runner_configuration_pb2.CreateHostAuthenticationTokenResponse(token=token)


def _expires(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


def build_app(state: State) -> Any:
    apps: list[Any] = [
        runner_connect.RunnerServiceASGIApplication(FakeRunnerService(state)),
        runner_configuration_connect.RunnerConfigurationServiceASGIApplication(
            FakeConfigurationService(state)
        ),
    ]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        for sub in apps:
            if path.startswith(sub.path + "/"):
                await sub(scope, receive, send)
                return
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1, port 0, in a thread; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
