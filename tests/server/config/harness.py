"""Calling RunnerConfigurationService (and RunnerService, to make runners) in the tests.

``ConfigApi`` calls RunnerConfigurationService RPCs by snake_case name with a request message
and a bearer token (the admin's by default), through the generated async clients in process
(``pyqwest.testing.ASGITransport``) with the binary or the JSON codec. ``fails`` expects a
Connect code and returns the error, so tests can look at its message and details.
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

from runnerkit.server.bootstrap import master_key_file
from runnerkit.server.crypto import load_master_key, unseal
from runnerkit.server.storage import open_store, sqlite_url
from runnerkit_proto.gitpod.v1 import runner_configuration_connect, runner_connect, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from tests.support.server import app_on_fresh_store, create_user, db_path

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from connectrpc.code import Code

    from runnerkit.server.asgi import ASGIApp

CODECS = ("proto", "json")
AWS = rc_pb2.RUNNER_PROVIDER_AWS_EC2


@dataclass
class ConfigApi:
    """Calls both services; knows the admin token and the server's directory."""

    invoke: Callable[[str, str, Any, str], Any]
    admin_token: str
    directory: Path
    codec: str = "proto"

    def __call__(self, method: str, request: Any, token: str | None = None) -> Any:
        return self.invoke("config", method, request, token or self.admin_token)

    def runners(self, method: str, request: Any, token: str | None = None) -> Any:
        return self.invoke("runner", method, request, token or self.admin_token)

    def fails(
        self, method: str, request: Any, code: Code, token: str | None = None
    ) -> ConnectError:
        """Call and expect ``code``; return the error."""
        with pytest.raises(ConnectError) as info:
            self(method, request, token)
        assert info.value.code == code, (info.value.code, info.value.message)
        return info.value

    def runner_fails(
        self, method: str, request: Any, code: Code, token: str | None = None
    ) -> ConnectError:
        """Call a RunnerService RPC and expect ``code``; return the error."""
        with pytest.raises(ConnectError) as info:
            self.runners(method, request, token)
        assert info.value.code == code, (info.value.code, info.value.message)
        return info.value

    def user(self, name: str = "user", **kwargs: Any) -> tuple[str, str]:
        """A new subject with a token: ``(id, token)``."""
        return create_user(self.directory, name=name, **kwargs)

    def new_runner(
        self, provider: int = AWS, token: str | None = None, name: str = "runner"
    ) -> str:
        """Create a runner; return its id."""
        request = runner_pb2.CreateRunnerRequest(name=name, provider=provider)  # type: ignore[arg-type]
        return str(self.runners("create_runner", request, token).runner.runner_id)

    def grant(self, runner_id: str, group_id: str, role: int) -> None:
        """Give a group a role on a runner."""
        request = runner_pb2.CreateRunnerPolicyRequest(
            runner_id=runner_id,
            group_id=group_id,
            role=role,  # type: ignore[arg-type]
        )
        self.runners("create_runner_policy", request)

    def unseal(self, runner_id: str, sealed: bytes) -> bytes:
        """Open a sealed box with the runner's private key, as the runner would."""
        key = load_master_key(master_key_file(db_path(self.directory)), environ={})
        store = open_store(sqlite_url(db_path(self.directory)))
        try:
            runner = store.get_runner(runner_id)
            assert runner is not None
            return unseal(key, runner.wrapped_private_key, sealed)
        finally:
            store.close()


@contextlib.contextmanager
def open_config_api(directory: Path, *, json: bool) -> Iterator[ConfigApi]:
    """A fresh server in ``directory`` and a ``ConfigApi`` calling it in process."""
    with (
        app_on_fresh_store(directory) as (app, token),
        config_api_for(app, token, directory, json=json) as api,
    ):
        yield api


@contextlib.contextmanager
def config_api_for(
    app: ASGIApp, admin_token: str, directory: Path, *, json: bool
) -> Iterator[ConfigApi]:
    """A ``ConfigApi`` calling ``app`` in process with the generated async clients."""
    codec = google_protobuf_json_codec() if json else google_protobuf_binary_codec()
    with asyncio.Runner() as runner:
        transport = ASGITransport(app)

        async def make() -> dict[str, Any]:
            http = pyqwest.Client(transport)
            base = "http://runnerkit.test"
            return {
                "runner": runner_connect.RunnerServiceClient(base, http_client=http, codec=codec),
                "config": runner_configuration_connect.RunnerConfigurationServiceClient(
                    base, http_client=http, codec=codec
                ),
            }

        clients = runner.run(make())

        def invoke(service: str, method: str, request: Any, bearer: str) -> Any:
            call = getattr(clients[service], method)
            return runner.run(call(request, headers={"authorization": f"Bearer {bearer}"}))

        try:
            yield ConfigApi(invoke, admin_token, directory, "json" if json else "proto")
        finally:
            for client in clients.values():
                runner.run(client.close())
