"""The server enforces every request-side rule of the real API's table, at its bounds, both codecs.

For each rule (tests/data/gitpod_v1_validate.tsv) and each RPC whose request reaches it, the
request that breaks the rule just past its bound gets ``invalid_argument`` naming the field
path, with a ``buf.validate.Violations`` detail; the request at the bound passes the rules
(the handler may still refuse it for other reasons, e.g. a runner that does not exist, but
never with a Violations detail). Rules on response messages are checked against the server's
real answers in ``test_answers_keep_the_response_rules``. In process, binary and JSON; the
Connect, gRPC-Web and gRPC protocols in ``test_every_protocol_gets_the_violations``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import pyqwest
import pytest
from connectrpc.code import Code
from connectrpc.compat import google_protobuf_binary_codec, google_protobuf_json_codec
from connectrpc.errors import ConnectError
from connectrpc.protocol import ProtocolType
from pyqwest.testing import ASGITransport

from runnerkit.request_rules import check, field_path
from runnerkit_proto.buf.validate import validate_pb2
from runnerkit_proto.gitpod.v1 import (
    pagination_pb2,
    runner_configuration_connect,
    runner_configuration_pb2,
    runner_connect,
    runner_pb2,
)
from tests.schema.descriptors import methods
from tests.support.rule_cases import (
    DISABLED,
    FIELD_ROWS,
    Row,
    boundary_cases,
    build,
    message_desc,
    request_targets,
    table_rules,
)
from tests.support.server import app_on_fresh_store

if TYPE_CHECKING:
    from collections.abc import Iterator

CODECS = ("proto", "json")


class Caller:
    """Calls any RPC by ``Service/Method`` in process, over one codec."""

    def __init__(self, runner: asyncio.Runner, app: Any, token: str, codec: str) -> None:
        self._runner = runner
        self._token = token
        self.app = app
        self.token = token
        made = google_protobuf_json_codec() if codec == "json" else google_protobuf_binary_codec()

        async def make() -> dict[str, Any]:
            http = pyqwest.Client(ASGITransport(app))
            url = "http://runnerkit.test"
            return {
                "RunnerService": runner_connect.RunnerServiceClient(
                    url, http_client=http, codec=made
                ),
                "RunnerConfigurationService": (
                    runner_configuration_connect.RunnerConfigurationServiceClient(
                        url, http_client=http, codec=made
                    )
                ),
            }

        self._clients = runner.run(make())

    def __call__(self, rpc: str, request: Any) -> Any:
        service, method = rpc.split("/")
        name = "".join("_" + c.lower() if c.isupper() else c for c in method).lstrip("_")
        name = name.replace("s_c_m", "scm").replace("u_r_l", "url")
        call = getattr(self._clients[service], name)
        return self._runner.run(call(request, headers={"authorization": f"Bearer {self._token}"}))

    def close(self) -> None:
        for client in self._clients.values():
            self._runner.run(client.close())


@pytest.fixture(scope="module")
def callers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Caller]]:
    directory = tmp_path_factory.mktemp("rules")
    with app_on_fresh_store(directory) as (app, token), asyncio.Runner() as runner:
        made = {codec: Caller(runner, app, token, codec) for codec in CODECS}
        try:
            yield made
        finally:
            for caller in made.values():
                caller.close()


def violations_of(error: ConnectError) -> validate_pb2.Violations | None:
    """The error's buf.validate.Violations detail, if any."""
    for detail in error.details:
        if detail.type_name == "buf.validate.Violations":
            return validate_pb2.Violations.FromString(detail.message_bytes)
    return None


def _request_cases() -> list[Any]:
    out = []
    for row in FIELD_ROWS:
        field = message_desc(row.owner).fields_by_name[row.name]
        for rpc, method, path in request_targets(row.owner):
            for case in boundary_cases(field, table_rules(row)):
                out.append(
                    pytest.param(
                        row,
                        rpc,
                        method.input_type,
                        path,
                        case.value,
                        case.ok,
                        id=f"{rpc.split('/')[1]}-{'.'.join((*path, row.name))}-{case.label}",
                    )
                )
    return out


REQUEST_CASES = _request_cases()


def test_every_request_side_rule_is_reached() -> None:
    reached = {c.values[0].id for c in REQUEST_CASES}
    response_side = {r.id for r in FIELD_ROWS} - reached
    # Rules on messages that only answers carry (and on the disabled request, reached as itself).
    assert response_side == {
        "CreateRunnerResponse.runner",
        "GetRunnerResponse.runner",
        "CreateRunnerLogsTokenResponse.access_token",
        "CreateRunnerPolicyResponse.policy",
        "UpdateRunnerPolicyResponse.policy",
        "Runner.runner_manager_id",
        "RunnerStatus.public_key",
        "RunnerPolicy.group_id",
        "CreateHostAuthenticationTokenResponse.token",
        "GetHostAuthenticationTokenResponse.token",
        "CreateSCMIntegrationResponse.id",
        "EnvironmentClass.display_name",
        "EnvironmentClass.description",
        "Gateway.name",
        "Gateway.url",
    }
    # page_size: every RPC with pagination (the List RPCs, SearchRepositories, ...).
    pagination = {
        c.values[1] for c in REQUEST_CASES if c.values[0].id == "PaginationRequest.page_size"
    }
    with_pagination = {
        rpc for rpc, method in methods().items() if "pagination" in method.input_type.fields_by_name
    }
    assert pagination == with_pagination
    assert len(pagination) == 7


def _error_of(caller: Caller, rpc: str, request: Any) -> ConnectError | None:
    try:
        caller(rpc, request)
    except ConnectError as error:
        return error
    return None


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(("row", "rpc", "desc", "path", "value", "ok"), REQUEST_CASES)
def test_request_rule_at_its_bounds(  # noqa: PLR0917 - the case's parts, as parametrised
    callers: dict[str, Caller],
    codec: str,
    row: Row,
    rpc: str,
    desc: Any,
    path: tuple[str, ...],
    value: Any,
    ok: bool,
) -> None:
    request = build(desc, path, row.name, value)
    target = ".".join((*path, row.name))
    error = _error_of(callers[codec], rpc, request)
    found = None if error is None else violations_of(error)
    if ok or row.owner in DISABLED:
        # Passed the rules; the handler may refuse it for other reasons, never a Violation.
        assert found is None, (error.code, error.message) if error else None
        return
    assert error is not None, "a request breaking the rule was served"
    assert error.code == Code.INVALID_ARGUMENT, error.message
    assert target in error.message
    assert found is not None
    paths = {field_path(v.field) for v in found.violations}
    assert any(p == target or p.startswith(target + "[") for p in paths), paths


@pytest.mark.parametrize("codec", CODECS)
def test_validate_runner_configuration_answers_with_results(
    callers: dict[str, Caller], codec: str
) -> None:
    call = callers[codec]
    runner = call(
        "RunnerService/CreateRunner",
        runner_pb2.CreateRunnerRequest(
            name="validating", provider=runner_configuration_pb2.RUNNER_PROVIDER_AWS_EC2
        ),
    ).runner
    rc = runner_configuration_pb2
    for display_name, description in (("ab", "ok description"), ("x" * 128, "d"), ("", "")):
        response = call(
            "RunnerConfigurationService/ValidateRunnerConfiguration",
            rc.ValidateRunnerConfigurationRequest(
                runner_id=runner.runner_id,
                environment_class=rc.EnvironmentClass(
                    display_name=display_name,
                    description=description,
                    configuration=[rc.FieldValue(key="no-such-key", value="1")],
                ),
            ),
        )
        result = response.environment_class
        assert not result.valid
        assert result.HasField("display_name_error")
        assert [e.key for e in result.configuration_errors][:1] == ["no-such-key"]
    good = call(
        "RunnerConfigurationService/ValidateRunnerConfiguration",
        rc.ValidateRunnerConfigurationRequest(
            runner_id=runner.runner_id,
            environment_class=rc.EnvironmentClass(display_name="abc", description="d" * 200),
        ),
    ).environment_class
    assert not good.HasField("display_name_error")
    assert not good.HasField("description_error")
    # A malformed runner id is no rule violation here: the runner does not exist.
    with pytest.raises(ConnectError) as info:
        call(
            "RunnerConfigurationService/ValidateRunnerConfiguration",
            rc.ValidateRunnerConfigurationRequest(
                runner_id="not-a-uuid", environment_class=rc.EnvironmentClass(display_name="a")
            ),
        )
    assert info.value.code == Code.NOT_FOUND
    assert violations_of(info.value) is None


def test_answers_keep_the_response_rules(callers: dict[str, Caller]) -> None:
    call = callers["proto"]
    rc = runner_configuration_pb2
    created = call(
        "RunnerService/CreateRunner",
        runner_pb2.CreateRunnerRequest(name="answers", provider=rc.RUNNER_PROVIDER_AWS_EC2),
    )
    runner_id = created.runner.runner_id
    group = str(uuid.uuid4())
    answers = [
        created,
        call("RunnerService/GetRunner", runner_pb2.GetRunnerRequest(runner_id=runner_id)),
        call(
            "RunnerService/CreateRunnerLogsToken",
            runner_pb2.CreateRunnerLogsTokenRequest(runner_id=runner_id),
        ),
        call(
            "RunnerService/CreateRunnerPolicy",
            runner_pb2.CreateRunnerPolicyRequest(
                runner_id=runner_id, group_id=group, role=runner_pb2.RUNNER_ROLE_USER
            ),
        ),
        call(
            "RunnerService/UpdateRunnerPolicy",
            runner_pb2.UpdateRunnerPolicyRequest(
                runner_id=runner_id, group_id=group, role=runner_pb2.RUNNER_ROLE_ADMIN
            ),
        ),
        call(
            "RunnerConfigurationService/CreateEnvironmentClass",
            rc.CreateEnvironmentClassRequest(
                runner_id=runner_id, display_name="Small", description="A small class"
            ),
        ),
        call(
            "RunnerConfigurationService/CreateSCMIntegration",
            rc.CreateSCMIntegrationRequest(
                runner_id=runner_id, scm_id="github", host="github.com", pat=True
            ),
        ),
    ]
    token = call(
        "RunnerConfigurationService/CreateHostAuthenticationToken",
        rc.CreateHostAuthenticationTokenRequest(
            runner_id=runner_id, host="github.com", token="ghp_example"
        ),
    )
    answers.append(token)
    answers.append(
        call(
            "RunnerConfigurationService/GetHostAuthenticationToken",
            rc.GetHostAuthenticationTokenRequest(id=token.token.id),
        )
    )
    answers.append(call("RunnerService/ListRunners", runner_pb2.ListRunnersRequest()))
    answers.append(
        call(
            "RunnerConfigurationService/ListEnvironmentClasses", rc.ListEnvironmentClassesRequest()
        )
    )
    for answer in answers:
        check(answer)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(
    "protocol", [ProtocolType.CONNECT, ProtocolType.GRPC_WEB, ProtocolType.GRPC]
)
def test_every_protocol_gets_the_violations(
    callers: dict[str, Caller], protocol: ProtocolType, codec: str
) -> None:
    app, token = callers[codec].app, callers[codec].token
    made = google_protobuf_json_codec() if codec == "json" else google_protobuf_binary_codec()

    async def scenario() -> None:
        client = runner_connect.RunnerServiceClient(
            "http://runnerkit.test",
            http_client=pyqwest.Client(ASGITransport(app)),
            protocol=protocol,
            codec=made,
        )
        auth = {"authorization": f"Bearer {token}"}
        try:
            too_big = runner_pb2.ListRunnersRequest(
                pagination=pagination_pb2.PaginationRequest(page_size=101)
            )
            with pytest.raises(ConnectError) as info:
                await client.list_runners(too_big, headers=auth)
            assert info.value.code == Code.INVALID_ARGUMENT
            assert info.value.message.startswith("pagination.page_size: ")
            found = violations_of(info.value)
            assert found is not None
            assert [v.rule_id for v in found.violations] == ["int32.gte_lte"]
            assert field_path(found.violations[0].field) == "pagination.page_size"
            fine = runner_pb2.ListRunnersRequest(
                pagination=pagination_pb2.PaginationRequest(page_size=100)
            )
            assert (await client.list_runners(fine, headers=auth)).pagination is not None
        finally:
            await client.close()

    asyncio.run(scenario())
