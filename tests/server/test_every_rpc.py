"""Every RunnerService RPC rejects bad tokens, malformed ids, strangers and unknown runners."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from connectrpc.code import Code

from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from runnerkit_proto.gitpod.v1 import runner_pb2
from tests.support.server import create_user

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.server.harness import Api

R = runner_pb2
GROUP = "6f1c1b9e-3f0e-4b61-9a51-3c0f3c9b1d11"

# method -> request for a runner id; every one of them is scoped to one runner
RUNNER_SCOPED: dict[str, Callable[[str], Any]] = {
    "get_runner": lambda rid: R.GetRunnerRequest(runner_id=rid),
    "update_runner": lambda rid: R.UpdateRunnerRequest(runner_id=rid, name="xyz"),
    "delete_runner": lambda rid: R.DeleteRunnerRequest(runner_id=rid),
    "create_runner_token": lambda rid: R.CreateRunnerTokenRequest(runner_id=rid),
    "create_runner_logs_token": lambda rid: R.CreateRunnerLogsTokenRequest(runner_id=rid),
    "parse_context_url": lambda rid: R.ParseContextURLRequest(
        runner_id=rid, context_url="https://github.com/a/b"
    ),
    "search_repositories": lambda rid: R.SearchRepositoriesRequest(
        runner_id=rid, scm_host="github.com"
    ),
    "list_scm_organizations": lambda rid: R.ListSCMOrganizationsRequest(
        runner_id=rid, scm_host="github.com"
    ),
    "check_authentication_for_host": lambda rid: R.CheckAuthenticationForHostRequest(
        runner_id=rid, host="github.com"
    ),
    "check_repository_access": lambda rid: R.CheckRepositoryAccessRequest(
        runner_id=rid, repository_url="https://github.com/a/b"
    ),
    "list_runner_policies": lambda rid: R.ListRunnerPoliciesRequest(runner_id=rid),
    "create_runner_policy": lambda rid: R.CreateRunnerPolicyRequest(
        runner_id=rid, group_id=GROUP, role=R.RUNNER_ROLE_USER
    ),
    "update_runner_policy": lambda rid: R.UpdateRunnerPolicyRequest(
        runner_id=rid, group_id=GROUP, role=R.RUNNER_ROLE_USER
    ),
    "delete_runner_policy": lambda rid: R.DeleteRunnerPolicyRequest(runner_id=rid, group_id=GROUP),
}
# The reference calls these without a runner: runner_id is optional (public hosts only).
OPTIONAL_RUNNER = {"parse_context_url", "check_authentication_for_host"}
OTHERS: dict[str, Any] = {
    "create_runner": R.CreateRunnerRequest(name="runner", provider=rc_pb2.RUNNER_PROVIDER_AWS_EC2),
    "list_runners": R.ListRunnersRequest(),
}


def test_table_covers_all_sixteen_rpcs():
    assert len(R.DESCRIPTOR.services_by_name["RunnerService"].methods) == 16
    assert len(RUNNER_SCOPED) + len(OTHERS) == 16


def test_every_rpc_guards(api: Api):
    rid = api("create_runner", OTHERS["create_runner"]).runner.runner_id
    _, stranger = create_user(api.directory, name="stranger")
    for method, request in [
        *OTHERS.items(),
        *((m, build(rid)) for m, build in RUNNER_SCOPED.items()),
    ]:
        api.fails(method, request, Code.UNAUTHENTICATED, token="rk_unknown")
    api.fails("create_runner", OTHERS["create_runner"], Code.PERMISSION_DENIED, stranger)
    missing = str(uuid.uuid4())
    for method, build in RUNNER_SCOPED.items():
        api.fails(method, build(rid), Code.PERMISSION_DENIED, stranger)
        api.fails(method, build(missing), Code.PERMISSION_DENIED, stranger)
        api.fails(method, build(missing), Code.NOT_FOUND)
        for bad in ("runner-1",) if method in OPTIONAL_RUNNER else ("", "runner-1"):
            message = api.fails(method, build(bad), Code.INVALID_ARGUMENT)
            assert message.startswith("runner_id:"), (method, message)
