"""One synchronous way to call RunnerService for the tests, over four transports.

``Api`` calls an RPC by its snake_case name with a request message and a bearer token, and
returns the response or raises ``ConnectError``. ``open_api(kind, directory)`` yields one on a
fresh server: ``inproc-proto`` / ``inproc-json`` (async generated client on
``pyqwest.testing.ASGITransport``, driven by an ``asyncio.Runner``) and ``loopback-proto`` /
``loopback-json`` (sync generated client over a real socket to uvicorn in a thread).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyqwest
import pytest
from connectrpc.compat import google_protobuf_binary_codec, google_protobuf_json_codec
from connectrpc.errors import ConnectError
from pyqwest.testing import ASGITransport

from runnerkit_proto.gitpod.v1 import runner_connect
from tests.support.server import app_on_fresh_store, running_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from connectrpc.code import Code

    from runnerkit.server.asgi import ASGIApp

KINDS = ("inproc-proto", "inproc-json", "loopback-proto", "loopback-json")


@dataclass
class Api:
    """Calls RPCs; knows the admin token, the server directory and (loopback) its URL."""

    invoke: Callable[[str, Any, str], Any]
    admin_token: str
    directory: Path
    base_url: str | None = None

    def __call__(self, method: str, request: Any, token: str | None = None) -> Any:
        return self.invoke(method, request, token or self.admin_token)

    def fails(self, method: str, request: Any, code: Code, token: str | None = None) -> str:
        """Call and expect ``code``; return the error message."""
        with pytest.raises(ConnectError) as info:
            self(method, request, token)
        assert info.value.code == code, (info.value.code, info.value.message)
        return info.value.message


@contextlib.contextmanager
def inproc_api(
    app: ASGIApp, admin_token: str, directory: Path, *, json: bool = False
) -> Iterator[Api]:
    """An ``Api`` calling ``app`` in process with the async generated client."""
    codec = google_protobuf_json_codec() if json else google_protobuf_binary_codec()
    with asyncio.Runner() as runner:
        transport = ASGITransport(app)

        async def make() -> runner_connect.RunnerServiceClient:
            return runner_connect.RunnerServiceClient(
                "http://runnerkit.test", http_client=pyqwest.Client(transport), codec=codec
            )

        client = runner.run(make())

        def invoke(method: str, request: Any, bearer: str) -> Any:
            call = getattr(client, method)
            return runner.run(call(request, headers={"authorization": f"Bearer {bearer}"}))

        try:
            yield Api(invoke, admin_token, directory)
        finally:
            runner.run(client.close())


@contextlib.contextmanager
def open_api(kind: str, directory: Path) -> Iterator[Api]:
    """A fresh server in ``directory`` and an ``Api`` on it."""
    json = kind.endswith("json")
    if kind.startswith("inproc"):
        with (
            app_on_fresh_store(directory) as (app, token),
            inproc_api(app, token, directory, json=json) as api,
        ):
            yield api
        return
    codec = google_protobuf_json_codec() if json else google_protobuf_binary_codec()
    with running_server(directory) as (base_url, token):
        client = runner_connect.RunnerServiceClientSync(base_url, codec=codec)

        def invoke(method: str, request: Any, bearer: str) -> Any:
            call = getattr(client, method)
            return call(request, headers={"authorization": f"Bearer {bearer}"})

        try:
            yield Api(invoke, token, directory, base_url)
        finally:
            client.close()
