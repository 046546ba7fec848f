"""gRPC-Web over uvicorn works too (Connect and gRPC-Web over HTTP/1.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.protocol import ProtocolType

from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from runnerkit_proto.gitpod.v1 import runner_connect, runner_pb2
from tests.support.server import running_server

if TYPE_CHECKING:
    from pathlib import Path


def test_grpc_web_calls_and_errors(tmp_path: Path) -> None:
    with (
        running_server(tmp_path) as (base_url, token),
        runner_connect.RunnerServiceClientSync(base_url, protocol=ProtocolType.GRPC_WEB) as client,
    ):
        auth = {"authorization": f"Bearer {token}"}
        created = client.create_runner(
            runner_pb2.CreateRunnerRequest(name="web", provider=rc_pb2.RUNNER_PROVIDER_GCP),
            headers=auth,
        )
        got = client.get_runner(
            runner_pb2.GetRunnerRequest(runner_id=created.runner.runner_id), headers=auth
        )
        assert got.runner == created.runner
        with pytest.raises(ConnectError) as info:
            client.get_runner(runner_pb2.GetRunnerRequest(runner_id="bad"), headers=auth)
        assert info.value.code == Code.INVALID_ARGUMENT
        with pytest.raises(ConnectError) as info:
            client.list_runners(
                runner_pb2.ListRunnersRequest(), headers={"authorization": "Bearer nope"}
            )
        assert info.value.code == Code.UNAUTHENTICATED
