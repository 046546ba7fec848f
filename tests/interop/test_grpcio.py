"""grpcio (stubs generated from proto/) calls every RPC of both services over gRPC on h2c."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2
from tests.interop.conftest import GrpcioClient
from tests.interop.serve_process import serve_process
from tests.server.scm.stubs import ALICE
from tests.support.server import create_user

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from tests.interop.conftest import Server

GROUP = "6f1c1b9e-3f0e-4b61-9a51-3c0f3c9b1d11"
MIB = 1024 * 1024


def all_methods() -> set[str]:
    return {
        f"{service.name}/{method.name}"
        for module in (runner_pb2, runner_configuration_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }


def test_every_rpc_of_both_services(grpcio: GrpcioClient, interop_server: Server):  # noqa: PLR0915 - one scenario through all 32 RPCs
    called: set[str] = set()
    token = interop_server.token

    def ok(method: str, request: dict[str, Any]) -> dict[str, Any]:
        answer = grpcio.call(method, request, token=token)
        assert answer["code"] == "OK", (method, answer)
        called.add(method)
        response: dict[str, Any] = answer["response"]
        return response

    runner = ok(
        "RunnerService/CreateRunner", {"name": "runner-1", "provider": "RUNNER_PROVIDER_AWS_EC2"}
    )
    rid = runner["runner"]["runnerId"]
    assert runner["runner"]["name"] == "runner-1"
    assert runner["exchangeToken"]
    assert ok("RunnerService/GetRunner", {"runnerId": rid})["runner"]["runnerId"] == rid
    ok("RunnerService/CreateRunner", {"name": "runner-2", "provider": "RUNNER_PROVIDER_GCP"})
    page = ok("RunnerService/ListRunners", {"pagination": {"pageSize": 1}})
    assert len(page["runners"]) == 1
    assert page["pagination"]["nextToken"]
    rest = ok(
        "RunnerService/ListRunners", {"pagination": {"token": page["pagination"]["nextToken"]}}
    )
    assert {r["name"] for r in page["runners"] + rest["runners"]} == {"runner-1", "runner-2"}
    gcp = ok("RunnerService/ListRunners", {"filter": {"providers": ["RUNNER_PROVIDER_GCP"]}})
    assert [r["name"] for r in gcp["runners"]] == ["runner-2"]
    ok("RunnerService/UpdateRunner", {"runnerId": rid, "name": "renamed"})
    assert ok("RunnerService/GetRunner", {"runnerId": rid})["runner"]["name"] == "renamed"
    assert ok("RunnerService/CreateRunnerToken", {"runnerId": rid})["exchangeToken"]
    assert ok("RunnerService/CreateRunnerLogsToken", {"runnerId": rid})["accessToken"]

    # runner configuration: SCM integration, host token (the GitHub stub serves the SCM RPCs)
    config = "RunnerConfigurationService"
    schema = ok(f"{config}/GetRunnerConfigurationSchema", {"runnerId": rid})
    assert schema["schema"]["runnerConfig"]
    integration = {"runnerId": rid, "scmId": "github", "host": "github.com", "pat": True}
    iid = ok(f"{config}/CreateSCMIntegration", integration)["id"]
    got = ok(f"{config}/GetSCMIntegration", {"id": iid})["integration"]
    assert got["host"] == "github.com"
    assert got["pat"] is True
    listed = ok(f"{config}/ListSCMIntegrations", {"filter": {"runnerIds": [rid]}})
    assert [i["id"] for i in listed["integrations"]] == [iid]
    ok(f"{config}/UpdateSCMIntegration", {"id": iid, "pat": True})
    host_token = {"runnerId": rid, "host": "github.com", "token": ALICE}
    host_token["source"] = "HOST_AUTHENTICATION_TOKEN_SOURCE_PAT"
    tid = ok(f"{config}/CreateHostAuthenticationToken", host_token)["token"]["id"]
    got_token = ok(f"{config}/GetHostAuthenticationToken", {"id": tid})["token"]
    assert got_token["host"] == "github.com"
    assert ALICE not in str(got_token)
    tokens = ok(f"{config}/ListHostAuthenticationTokens", {"filter": {"runnerId": rid}})
    assert [t["id"] for t in tokens["tokens"]] == [tid]
    ok(f"{config}/UpdateHostAuthenticationToken", {"id": tid, "token": ALICE})

    parsed = ok("RunnerService/ParseContextURL", {"runnerId": rid, "contextUrl": "https://github.com/alice/hello"})  # fmt: skip
    assert parsed["git"]["owner"] == "alice"
    assert parsed["git"]["repo"] == "hello"
    found = ok("RunnerService/SearchRepositories", {"runnerId": rid, "scmHost": "github.com", "searchString": "svc"})  # fmt: skip
    assert found["repositories"][0]["name"].startswith("svc-")
    orgs = ok("RunnerService/ListSCMOrganizations", {"runnerId": rid, "scmHost": "github.com"})
    assert {o["name"] for o in orgs["organizations"]} >= {"acme", "beta"}
    auth = ok("RunnerService/CheckAuthenticationForHost", {"runnerId": rid, "host": "github.com"})
    assert auth["authenticated"] is True
    access = ok("RunnerService/CheckRepositoryAccess", {"runnerId": rid, "repositoryUrl": "https://github.com/alice/hello"})  # fmt: skip
    assert access["hasAccess"] is True

    policy = {"runnerId": rid, "groupId": GROUP, "role": "RUNNER_ROLE_USER"}
    assert ok("RunnerService/CreateRunnerPolicy", policy)["policy"]["role"] == "RUNNER_ROLE_USER"
    policies = ok("RunnerService/ListRunnerPolicies", {"runnerId": rid})["policies"]
    assert policies == [{"groupId": GROUP, "role": "RUNNER_ROLE_USER"}]
    policy["role"] = "RUNNER_ROLE_ADMIN"
    assert ok("RunnerService/UpdateRunnerPolicy", policy)["policy"]["role"] == "RUNNER_ROLE_ADMIN"
    ok("RunnerService/DeleteRunnerPolicy", {"runnerId": rid, "groupId": GROUP})
    assert ok("RunnerService/ListRunnerPolicies", {"runnerId": rid}) == {}

    cls = ok(f"{config}/CreateEnvironmentClass", {"runnerId": rid, "displayName": "small", "description": "two cores"})["id"]  # fmt: skip
    assert ok(f"{config}/GetEnvironmentClass", {"environmentClassId": cls})["environmentClass"]["displayName"] == "small"  # fmt: skip
    classes = ok(f"{config}/ListEnvironmentClasses", {"filter": {"runnerIds": [rid]}})
    assert [c["id"] for c in classes["environmentClasses"]] == [cls]
    ok(f"{config}/UpdateEnvironmentClass", {"environmentClassId": cls, "enabled": False})
    valid = ok(f"{config}/ValidateRunnerConfiguration", {"runnerId": rid, "environmentClass": {"displayName": "large", "description": "8 cores"}})  # fmt: skip
    assert valid["environmentClass"]["valid"] is True
    invalid = ok(f"{config}/ValidateRunnerConfiguration", {"runnerId": rid, "environmentClass": {"displayName": "x"}})  # fmt: skip
    assert "valid" not in invalid["environmentClass"]  # false: a result, not an error
    assert invalid["environmentClass"]["displayNameError"]

    ok(f"{config}/DeleteHostAuthenticationToken", {"id": tid})
    ok(f"{config}/DeleteSCMIntegration", {"id": iid})
    missing = grpcio.call(f"{config}/GetSCMIntegration", {"id": iid}, token=token)
    assert missing["code"] == "NOT_FOUND"
    ok("RunnerService/DeleteRunner", {"runnerId": rid})
    gone = grpcio.call("RunnerService/GetRunner", {"runnerId": rid}, token=token)
    assert gone["code"] == "NOT_FOUND"

    assert called == all_methods()


def test_error_codes_and_messages(grpcio: GrpcioClient, interop_server: Server):
    token = interop_server.token
    no_token = grpcio.call("RunnerService/ListRunners", {})
    assert (no_token["code"], no_token["details"]) == (
        "UNAUTHENTICATED",
        "missing or invalid bearer token",
    )
    wrong = grpcio.call("RunnerService/ListRunners", {}, token="rk_wrong")
    assert wrong["code"] == "UNAUTHENTICATED"
    malformed = grpcio.call("RunnerService/GetRunner", {"runnerId": "runner-1"}, token=token)
    assert (malformed["code"], malformed["details"]) == (
        "INVALID_ARGUMENT",
        "runner_id: must be a valid UUID",
    )
    unknown = grpcio.call("RunnerService/GetRunner", {"runnerId": str(uuid.uuid4())}, token=token)
    assert unknown["code"] == "NOT_FOUND"
    _, stranger = create_user(interop_server.directory, name="stranger")
    denied = grpcio.call("RunnerService/CreateRunner", {"name": "xyz", "provider": "RUNNER_PROVIDER_AWS_EC2"}, token=stranger)  # fmt: skip
    assert denied["code"] == "PERMISSION_DENIED"
    missing_name = grpcio.call("RunnerService/CreateRunner", {"provider": "RUNNER_PROVIDER_AWS_EC2"}, token=token)  # fmt: skip
    assert missing_name["code"] == "INVALID_ARGUMENT"
    assert "name" in missing_name["details"]
    too_big = grpcio.call("RunnerService/ListRunners", {}, token=token, big=5 * MIB)
    assert too_big["code"] == "RESOURCE_EXHAUSTED"


def test_metadata_and_compression(grpcio: GrpcioClient, interop_server: Server):
    # the bearer token travels as request metadata; other metadata is ignored
    answer = grpcio.call(
        "RunnerService/ListRunners",
        {},
        token=interop_server.token,
        metadata=[("x-request-id", "abc"), ("x-extra-bin", "binary")],
    )
    assert answer["code"] == "OK"
    # response headers arrive as initial metadata; an error status as trailers only
    assert "date" in dict(answer["initial"])
    failed = grpcio.call("RunnerService/GetRunner", {"runnerId": "x"})
    assert failed["code"] == "UNAUTHENTICATED"
    # gzip-compressed requests (grpc-encoding: gzip) are read
    created = grpcio.call(
        "RunnerService/CreateRunner",
        {"name": "zipped", "provider": "RUNNER_PROVIDER_AWS_EC2"},
        token=interop_server.token,
        gzip=True,
    )
    assert created["code"] == "OK"
    assert created["response"]["runner"]["name"] == "zipped"


def test_early_answers_leave_the_connection_healthy(grpcio: GrpcioClient, interop_server: Server):
    """Streams answered before their body is read do not break their siblings (h2, one conn)."""
    token = interop_server.token
    rid = grpcio.call("RunnerService/CreateRunner", {"name": "early", "provider": "RUNNER_PROVIDER_AWS_EC2"}, token=token)["response"]["runner"]["runnerId"]  # fmt: skip
    get = grpcio.command("RunnerService/GetRunner", {"runnerId": rid}, token=token)
    unauthenticated = grpcio.command("RunnerService/GetRunner", {"runnerId": rid}, big=300_000)
    too_big = grpcio.command("RunnerService/GetRunner", {"runnerId": rid}, token=token, big=5 * MIB)
    commands = [get, unauthenticated, get, too_big] * 6
    results = grpcio.concurrent(commands)
    codes = [r["code"] for r in results]
    assert codes == ["OK", "UNAUTHENTICATED", "OK", "RESOURCE_EXHAUSTED"] * 6
    assert all(r["response"]["runner"]["runnerId"] == rid for r in results if r["code"] == "OK")
    # and the connection goes on serving
    assert grpcio.call("RunnerService/GetRunner", {"runnerId": rid}, token=token)["code"] == "OK"


def test_grpc_errors_carry_their_code_and_log_no_traceback(
    grpcio: GrpcioClient, interop_server: Server, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    token = interop_server.token
    answers = [
        grpcio.call("RunnerService/GetRunner", {"runnerId": "x"}),
        grpcio.call("RunnerService/GetRunner", {"runnerId": "x"}, token=token),
        grpcio.call("RunnerService/GetRunner", {"runnerId": str(uuid.uuid4())}, token=token),
        grpcio.call("RunnerService/ListRunners", {}, token=token, big=5 * MIB),
        grpcio.call("RunnerConfigurationService/GetSCMIntegration", {"id": "?"}, token=token),
    ]
    assert [a["code"] for a in answers] == [
        "UNAUTHENTICATED",
        "INVALID_ARGUMENT",
        "NOT_FOUND",
        "RESOURCE_EXHAUSTED",
        "INVALID_ARGUMENT",
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    access = [r.getMessage() for r in caplog.records if r.name == "runnerkit.server.access"]
    assert any("path=/gitpod.v1.RunnerService/GetRunner status=200" in line for line in access)


def test_unknown_methods_and_services_are_unimplemented(grpcio: GrpcioClient):
    for path in ("/gitpod.v1.RunnerService/NoSuchMethod", "/no.such.Service/Method"):
        assert grpcio.raw(path) == {"code": "UNIMPLEMENTED", "details": f"no such path {path}"}


def test_grpc_channels_through_two_worker_processes(grpc_stubs: Path, tmp_path: Path):
    # Each grpcio channel is one HTTP/2 connection; with --workers 2 the kernel spreads them
    # over the workers' sockets. Whichever worker a channel reached, it serves gRPC and sees
    # what the other channels wrote (one database).
    with serve_process(tmp_path, "--workers", "2") as (base_url, token):
        clients = [GrpcioClient(grpc_stubs, base_url.removeprefix("http://")) for _ in range(6)]
        try:
            created = []
            for n, client in enumerate(clients):
                answer = client.call(
                    "RunnerService/CreateRunner",
                    {"name": f"worker-{n}", "provider": "RUNNER_PROVIDER_GCP"},
                    token=token,
                )
                assert answer["code"] == "OK", answer
                created.append(answer["response"]["runner"]["runnerId"])
            for client in clients:  # each connection reads what the others wrote
                for rid in created:
                    got = client.call("RunnerService/GetRunner", {"runnerId": rid}, token=token)
                    assert got["code"] == "OK", got
                    assert got["response"]["runner"]["runnerId"] == rid
        finally:
            for client in clients:
                client.close()
