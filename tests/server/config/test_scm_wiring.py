"""RunnerService's offline SCM calls see the runner's SCM integrations and host tokens."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from connectrpc.code import Code
from google.protobuf import timestamp_pb2

from runnerkit.server.scm import SCMConfig
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from runnerkit_proto.gitpod.v1 import runner_pb2
from tests.server.config.harness import CODECS, config_api_for
from tests.server.scm.stubs import ALICE, run_stub
from tests.support.server import app_on_fresh_store, new_group_id

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.server.config.harness import ConfigApi

R = runner_pb2
URL = "https://git.example.com/team/app/-/merge_requests/7"


def test_parse_context_url_knows_integration_hosts(capi):
    runner_id, other = capi.new_runner(), capi.new_runner()
    request = R.ParseContextURLRequest(runner_id=runner_id, context_url=URL)
    capi.runner_fails("parse_context_url", request, Code.INVALID_ARGUMENT)
    capi(
        "create_scm_integration",
        rc.CreateSCMIntegrationRequest(
            runner_id=runner_id, scm_id="gitlab", host="Git.Example.com"
        ),
    )
    parsed = capi.runners("parse_context_url", request)
    assert parsed.scm_id == "gitlab"
    assert parsed.git.host == "git.example.com"
    assert (parsed.git.owner, parsed.git.repo) == ("team", "app")
    # Another runner does not know that host.
    other_request = R.ParseContextURLRequest(runner_id=other, context_url=URL)
    capi.runner_fails("parse_context_url", other_request, Code.INVALID_ARGUMENT)


def _check(capi: ConfigApi, runner_id: str, host: str, token: str | None = None) -> Any:
    request = R.CheckAuthenticationForHostRequest(runner_id=runner_id, host=host)
    return capi.runners("check_authentication_for_host", request, token)


def test_check_authentication_uses_integrations_and_host_tokens(capi):
    runner_id, other = capi.new_runner(), capi.new_runner()
    group = new_group_id()
    capi.grant(runner_id, group, R.RUNNER_ROLE_USER)
    capi.grant(other, group, R.RUNNER_ROLE_USER)
    _, user = capi.user("u", groups=[group])
    assert _check(capi, runner_id, "git.example.com") == R.CheckAuthenticationForHostResponse()
    capi(
        "create_scm_integration",
        rc.CreateSCMIntegrationRequest(
            runner_id=runner_id,
            scm_id="gitlab",
            host="git.example.com",
            oauth_client_id="the-client",
            oauth_plaintext_client_secret="s",
            pat=True,
        ),
    )
    answer = _check(capi, runner_id, "https://git.example.com/", user)
    assert (answer.scm_id, answer.authenticated) == ("gitlab", False)
    assert "client_id=the-client" in answer.supports_oauth2.auth_url
    assert answer.supports_oauth2.auth_url.startswith("https://git.example.com/")
    assert answer.supports_pat.create_url
    # Only the caller's own unexpired token for this runner and host counts.
    now = int(time.time())
    capi(
        "create_host_authentication_token",
        rc.CreateHostAuthenticationTokenRequest(
            runner_id=runner_id, host="git.example.com", token="t"
        ),
    )  # the admin's
    capi(
        "create_host_authentication_token",
        rc.CreateHostAuthenticationTokenRequest(runner_id=other, host="git.example.com", token="t"),
        user,
    )  # another runner
    assert not _check(capi, runner_id, "git.example.com", user).authenticated
    assert _check(capi, runner_id, "git.example.com").authenticated
    created = capi(
        "create_host_authentication_token",
        rc.CreateHostAuthenticationTokenRequest(
            runner_id=runner_id,
            host="GIT.example.com",
            token="t",
            expires_at=timestamp_pb2.Timestamp(seconds=now - 60),
        ),
        user,
    ).token
    assert not _check(capi, runner_id, "git.example.com", user).authenticated  # expired
    capi(
        "update_host_authentication_token",
        rc.UpdateHostAuthenticationTokenRequest(
            id=created.id, expires_at=timestamp_pb2.Timestamp(seconds=now + 3600)
        ),
        user,
    )
    assert _check(capi, runner_id, "git.example.com", user).authenticated
    # A token for a default host counts too, without any integration.
    capi(
        "create_host_authentication_token",
        rc.CreateHostAuthenticationTokenRequest(runner_id=runner_id, host="github.com", token="t"),
        user,
    )
    github = _check(capi, runner_id, "github.com", user)
    assert (github.scm_id, github.authenticated) == ("github", True)


def test_parse_context_url_without_runner_knows_public_hosts_only(capi):
    parsed = capi.runners(
        "parse_context_url",
        R.ParseContextURLRequest(context_url="https://github.com/org/repo/tree/main"),
    )
    assert (parsed.scm_id, parsed.git.owner, parsed.git.repo) == ("github", "org", "repo")
    assert parsed.git.branch == "main"
    # A self-managed host is known only through a runner's SCM integration.
    capi.runner_fails(
        "parse_context_url", R.ParseContextURLRequest(context_url=URL), Code.INVALID_ARGUMENT
    )


def test_check_authentication_needs_a_runner_and_counts_the_callers_tokens(capi):
    # The real API requires a UUID runner_id (the reference's own example omits it).
    error = capi.runner_fails(
        "check_authentication_for_host",
        R.CheckAuthenticationForHostRequest(host="github.com"),
        Code.INVALID_ARGUMENT,
    )
    assert error.message.startswith("runner_id: ")
    runner_id = capi.new_runner()
    request = R.CheckAuthenticationForHostRequest(runner_id=runner_id, host="github.com")
    answer = capi.runners("check_authentication_for_host", request)
    assert (answer.scm_id, answer.authenticated) == ("github", False)
    assert answer.supports_pat.create_url
    capi(
        "create_host_authentication_token",
        rc.CreateHostAuthenticationTokenRequest(runner_id=runner_id, host="github.com", token="t"),
    )
    assert capi.runners("check_authentication_for_host", request).authenticated
    # Someone else's token does not count for this caller.
    _, user = capi.user("u", groups=[group := new_group_id()])
    capi.grant(runner_id, group, R.RUNNER_ROLE_USER)
    assert not capi.runners("check_authentication_for_host", request, user).authenticated


@pytest.fixture(params=CODECS)
def capi_on_stub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConfigApi]:
    """Like ``capi``, with github.com served by the local GitHub stub."""
    with (
        run_stub("github") as stub,
        app_on_fresh_store(
            tmp_path, scm=SCMConfig(api_base_urls={"github.com": stub.api_base}, timeout_s=2)
        ) as (app, token),
        config_api_for(app, token, tmp_path, json=request.param == "json") as api,
    ):
        yield api


def test_scm_calls_with_a_host_token_reach_the_scm(capi_on_stub):
    capi = capi_on_stub
    runner_id = capi.new_runner()
    search_all = R.SearchRepositoriesRequest(runner_id=runner_id)
    # No host token anywhere: searching "all authenticated hosts" finds nothing.
    assert capi.runners("search_repositories", search_all) == R.SearchRepositoriesResponse()
    github_search = R.SearchRepositoriesRequest(runner_id=runner_id, scm_host="github.com")
    error = capi.runner_fails("search_repositories", github_search, Code.FAILED_PRECONDITION)
    assert error.message == "missing authentication token for github.com"
    capi(
        "create_host_authentication_token",
        rc.CreateHostAuthenticationTokenRequest(
            runner_id=runner_id, host="github.com", token=ALICE
        ),
    )
    # The SCM adapters answer now (tests/server/scm_rpcs covers them in depth).
    own = {"hello", "empty", "private-app", "api"} | {f"svc-{i:02}" for i in range(1, 8)}
    for request in (search_all, github_search):
        found = capi.runners("search_repositories", request)
        assert {r.name for r in found.repositories} == own
    access = capi.runners(
        "check_repository_access",
        R.CheckRepositoryAccessRequest(
            runner_id=runner_id, repository_url="https://github.com/org/repo"
        ),
    )
    assert not access.has_access
    assert access.error_message == "repository org/repo not found on github.com, or no access"
    orgs = capi.runners(
        "list_scm_organizations",
        R.ListSCMOrganizationsRequest(runner_id=runner_id, scm_host="github.com"),
    )
    assert [o.name for o in orgs.organizations if o.is_admin] == ["acme", "delta"]
