"""``Client(validate=True)``: requests breaking the schema's rules never leave the client.

The reference server runs in process behind a counter of the HTTP requests that reach it.
Every request-side rule of the real API's table is broken once (the first rejected boundary
case of each rule, as in tests/server/test_request_rules.py): the client raises
``invalid_argument`` with the server's own message and ``buf.validate.Violations`` detail, and
the counter does not move. Without ``validate`` the same request reaches the server, which
answers the same error.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pyqwest
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from pyqwest.testing import ASGITransport

import runnerkit
from runnerkit_proto.buf.validate import validate_pb2
from tests.client.inprocess import SyncASGITransport
from tests.support.rule_cases import (
    DISABLED,
    FIELD_ROWS,
    boundary_cases,
    build,
    message_desc,
    request_targets,
    table_rules,
)
from tests.support.server import app_on_fresh_store

if TYPE_CHECKING:
    from collections.abc import Iterator

    from runnerkit.server.asgi import Receive, Scope, Send


class Counted:
    """An ASGI app that counts the HTTP requests reaching the wrapped one."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests += 1
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Counted, str]]:
    with app_on_fresh_store(tmp_path_factory.mktemp("validate")) as (app, token):
        yield Counted(app), token


@pytest.fixture(scope="module")
def clients(served: tuple[Counted, str]) -> Iterator[dict[bool, runnerkit.Client]]:
    counted, token = served
    with SyncASGITransport(counted) as transport:
        http = pyqwest.SyncClient(transport)
        made = {
            flag: runnerkit.Client(
                base_url="http://runnerkit.test",
                bearer_token=token,
                http_client=http,
                validate=flag,
                max_retries=0,
            )
            for flag in (True, False)
        }
        yield made
        for client in made.values():
            client.close()


def _first_rejections() -> list[Any]:
    out = []
    for row in FIELD_ROWS:
        targets = request_targets(row.owner)
        if not targets or row.owner in DISABLED:
            continue
        rpc, method, path = targets[0]
        field = message_desc(row.owner).fields_by_name[row.name]
        bad = next((c for c in boundary_cases(field, table_rules(row)) if not c.ok), None)
        if bad is not None:
            request = build(method.input_type, path, row.name, bad.value)
            out.append(pytest.param(rpc, request, id=f"{row.id}-{bad.label}"))
    return out


def _call(client: runnerkit.Client, rpc: str, request: Any) -> Any:
    service, method = rpc.split("/")
    generated = (
        client.runner_service if service == "RunnerService" else client.runner_configuration_service
    )
    name = "".join("_" + c.lower() if c.isupper() else c for c in method).lstrip("_")
    name = name.replace("s_c_m", "scm").replace("u_r_l", "url")
    return getattr(generated, name)(request)


def _violations(error: ConnectError) -> validate_pb2.Violations:
    [detail] = [d for d in error.details if d.type_name == "buf.validate.Violations"]
    return validate_pb2.Violations.FromString(detail.message_bytes)


@pytest.mark.parametrize(("rpc", "request_message"), _first_rejections())
def test_broken_rules_are_refused_before_sending(clients, served, rpc, request_message):
    counted, _ = served
    before = counted.requests
    with pytest.raises(ConnectError) as local:
        _call(clients[True], rpc, request_message)
    assert counted.requests == before  # nothing on the wire
    assert local.value.code == Code.INVALID_ARGUMENT
    # The server answers the very same error to the same request.
    with pytest.raises(ConnectError) as remote:
        _call(clients[False], rpc, request_message)
    assert counted.requests == before + 1
    assert (remote.value.code, remote.value.message) == (local.value.code, local.value.message)
    assert _violations(remote.value) == _violations(local.value)


def test_facade_raises_invalid_argument_error_without_a_request(clients, served):
    counted, _ = served
    client = clients[True]
    before = counted.requests
    with pytest.raises(runnerkit.InvalidArgumentError) as info:
        client.runners.create(name="ab", provider="RUNNER_PROVIDER_AWS_EC2")
    assert info.value.message == "name: must be at least 3 characters"
    with pytest.raises(runnerkit.InvalidArgumentError) as info:
        client.runners.list(pagination={"page_size": 101})
    assert info.value.message.startswith("pagination.page_size: ")
    assert counted.requests == before
    created = client.runners.create(name="abc", provider="RUNNER_PROVIDER_AWS_EC2").runner
    assert counted.requests == before + 1
    assert client.runners.retrieve(runner_id=created.runner_id).runner.name == "abc"


def test_async_client_validates_too(served):
    counted, token = served

    async def scenario() -> None:
        http = pyqwest.Client(ASGITransport(counted))
        async with runnerkit.AsyncClient(
            base_url="http://runnerkit.test", bearer_token=token, http_client=http, validate=True
        ) as client:
            before = counted.requests
            with pytest.raises(runnerkit.InvalidArgumentError) as info:
                await client.runners.retrieve(runner_id="not-a-uuid")
            assert info.value.message == "runner_id: must be a valid UUID"
            assert counted.requests == before
            page = await client.runners.list(pagination={"page_size": 100})
            assert counted.requests == before + 1
            assert page.runners is not None

    asyncio.run(scenario())


def test_validation_is_off_by_default(served):
    counted, token = served
    with SyncASGITransport(counted) as transport:
        client = runnerkit.Client(
            base_url="http://runnerkit.test",
            bearer_token=token,
            http_client=pyqwest.SyncClient(transport),
        )
        before = counted.requests
        with pytest.raises(runnerkit.InvalidArgumentError):
            client.runners.create(name="ab", provider="RUNNER_PROVIDER_AWS_EC2")
        assert counted.requests == before + 1  # the server said no
        client.close()
