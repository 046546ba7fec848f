"""Every RunnerConfigurationService RPC: authentication, strangers, and what lists leave out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectrpc.code import Code

from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.server.config.harness import ConfigApi

Ids = dict[str, str]
SCOPED: dict[str, Callable[[Ids], Any]] = {
    "get_runner_configuration_schema": lambda i: rc.GetRunnerConfigurationSchemaRequest(
        runner_id=i["runner"]
    ),
    "validate_runner_configuration": lambda i: rc.ValidateRunnerConfigurationRequest(
        runner_id=i["runner"], environment_class=rc.EnvironmentClass(display_name="xyz")
    ),
    "create_environment_class": lambda i: rc.CreateEnvironmentClassRequest(
        runner_id=i["runner"], display_name="xyz", description="A class"
    ),
    "get_environment_class": lambda i: rc.GetEnvironmentClassRequest(
        environment_class_id=i["class"]
    ),
    "update_environment_class": lambda i: rc.UpdateEnvironmentClassRequest(
        environment_class_id=i["class"], enabled=False
    ),
    "create_scm_integration": lambda i: rc.CreateSCMIntegrationRequest(
        runner_id=i["runner"], scm_id="gitlab", host="gitlab.com"
    ),
    "get_scm_integration": lambda i: rc.GetSCMIntegrationRequest(id=i["integration"]),
    "update_scm_integration": lambda i: rc.UpdateSCMIntegrationRequest(
        id=i["integration"], pat=False
    ),
    "delete_scm_integration": lambda i: rc.DeleteSCMIntegrationRequest(id=i["integration"]),
    "create_host_authentication_token": lambda i: rc.CreateHostAuthenticationTokenRequest(
        runner_id=i["runner"], host="bitbucket.org", token="t"
    ),
    "get_host_authentication_token": lambda i: rc.GetHostAuthenticationTokenRequest(id=i["token"]),
    "update_host_authentication_token": lambda i: rc.UpdateHostAuthenticationTokenRequest(
        id=i["token"], token="t2"
    ),
    "delete_host_authentication_token": lambda i: rc.DeleteHostAuthenticationTokenRequest(
        id=i["token"]
    ),
}
LISTS: dict[str, tuple[Any, str]] = {
    "list_environment_classes": (rc.ListEnvironmentClassesRequest(), "environment_classes"),
    "list_scm_integrations": (rc.ListSCMIntegrationsRequest(), "integrations"),
    "list_host_authentication_tokens": (rc.ListHostAuthenticationTokensRequest(), "tokens"),
}


def test_table_covers_all_sixteen_rpcs():
    methods = rc.DESCRIPTOR.services_by_name["RunnerConfigurationService"].methods
    assert len(methods) == 16
    assert len(SCOPED) + len(LISTS) == 16


def _objects(capi: ConfigApi) -> Ids:
    runner_id = capi.new_runner()
    ids = {"runner": runner_id}
    ids["class"] = capi("create_environment_class", SCOPED["create_environment_class"](ids)).id
    ids["integration"] = capi(
        "create_scm_integration",
        rc.CreateSCMIntegrationRequest(runner_id=runner_id, scm_id="github", host="github.com"),
    ).id
    ids["token"] = capi(
        "create_host_authentication_token",
        rc.CreateHostAuthenticationTokenRequest(runner_id=runner_id, host="github.com", token="t"),
    ).token.id
    return ids


def test_every_rpc_guards(capi):
    ids = _objects(capi)
    _, stranger = capi.user("stranger")
    for method, build in SCOPED.items():
        capi.fails(method, build(ids), Code.UNAUTHENTICATED, token="rk_unknown")
        capi.fails(method, build(ids), Code.PERMISSION_DENIED, stranger)
    for method, (request, field) in LISTS.items():
        capi.fails(method, request, Code.UNAUTHENTICATED, token="rk_unknown")
        assert len(getattr(capi(method, request, stranger), field)) == 0
        assert len(getattr(capi(method, request), field)) == 1
    # The stranger's failed calls changed nothing; the admin's succeed.
    for method, build in SCOPED.items():
        capi(method, build(ids))
