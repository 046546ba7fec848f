"""CheckRepositoryAccess and ListSCMOrganizations against the stubs, through the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from connectrpc.code import Code

from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from tests.server.scm.stubs import REFUSED
from tests.server.scm_rpcs.harness import SELF_MANAGED

if TYPE_CHECKING:
    from tests.server.scm_rpcs.harness import ScmWorld

R = runner_pb2
HOSTS = ("github.com", "gitlab.com")


def _access(scm: ScmWorld, url: str) -> R.CheckRepositoryAccessRequest:
    return R.CheckRepositoryAccessRequest(runner_id=scm.runner_id, repository_url=url)


def _orgs(scm: ScmWorld, host: str, **kwargs: object) -> R.ListSCMOrganizationsRequest:
    return R.ListSCMOrganizationsRequest(runner_id=scm.runner_id, scm_host=host, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("host", HOSTS)
def test_check_repository_access(scm: ScmWorld, host: str):
    url = f"https://{host}/acme/private-app"
    message = scm.fails("check_repository_access", _access(scm, url), Code.FAILED_PRECONDITION)
    assert message == f"missing authentication token for {host}"
    token_id = scm.host_token(host)
    tree = "tree" if host == "github.com" else "-/tree"
    for given in (url, url + ".git", f"https://{host}/alice/hello/{tree}/main"):
        answer = scm.call("check_repository_access", _access(scm, given))
        assert answer == R.CheckRepositoryAccessResponse(has_access=True), given
    missing = scm.call("check_repository_access", _access(scm, f"https://{host}/acme/nope.git"))
    assert not missing.has_access
    assert "acme/nope" in missing.error_message
    assert "not found" in missing.error_message
    bad = scm.fails(
        "check_repository_access",
        _access(scm, "https://unknown.example/a/b"),
        Code.INVALID_ARGUMENT,
    )
    assert bad.startswith("repository_url:")
    # A refused token: GitHub and GitLab answer 403.
    scm.api(
        "delete_host_authentication_token",
        rc.DeleteHostAuthenticationTokenRequest(id=token_id),
    )
    scm.host_token(host, REFUSED)
    refused = scm.call("check_repository_access", _access(scm, url))
    assert not refused.has_access
    assert "refused" in refused.error_message


@pytest.mark.parametrize("host", HOSTS)
def test_check_repository_access_upstream_failures(scm: ScmWorld, host: str):
    scm.host_token(host, "unknown-S3CRET-token")
    url = f"https://{host}/alice/hello"
    assert host in scm.fails("check_repository_access", _access(scm, url), Code.FAILED_PRECONDITION)
    stub = scm.stub(host)
    stub.switches.rate_limit = 429  # GitHub: retry-after only, so the reset is now + 60 s
    assert f"rate limit of {host} exceeded; it resets at 20" in scm.fails(
        "check_repository_access", _access(scm, url), Code.RESOURCE_EXHAUSTED
    )
    stub.switches.rate_limit, stub.switches.outage = None, 502
    assert "unavailable" in scm.fails(
        "check_repository_access", _access(scm, url), Code.UNAVAILABLE
    )


def test_self_managed_gitlab_through_its_integration(scm: ScmWorld):
    url = f"https://{SELF_MANAGED}/acme/platform/api.git"
    # Without an integration the host is unknown.
    assert scm.fails(
        "check_repository_access", _access(scm, url), Code.INVALID_ARGUMENT
    ).startswith("repository_url:")
    scm.integration(SELF_MANAGED, "gitlab")
    scm.host_token(SELF_MANAGED)
    assert scm.call("check_repository_access", _access(scm, url)).has_access
    assert "/api/v4/projects/acme%2Fplatform%2Fapi" in scm.gitlab.switches.requests[-1]
    found = scm.call(
        "search_repositories",
        R.SearchRepositoriesRequest(
            runner_id=scm.runner_id, scm_host=SELF_MANAGED, search_string="api"
        ),
    )
    assert [r.name for r in found.repositories] == ["api"]
    orgs = scm.call("list_scm_organizations", _orgs(scm, SELF_MANAGED))
    assert len(orgs.organizations) == 5
    parsed = scm.call(
        "parse_context_url",
        R.ParseContextURLRequest(
            runner_id=scm.runner_id,
            context_url=f"https://{SELF_MANAGED}/alice/hello/-/merge_requests/1",
        ),
    )
    assert (parsed.scm_id, parsed.pull_request.title) == ("gitlab", "Add greeting")


@pytest.mark.parametrize("host", HOSTS)
def test_list_organizations_pages_and_admin_flag(scm: ScmWorld, host: str):
    assert (
        scm.fails("list_scm_organizations", _orgs(scm, host), Code.FAILED_PRECONDITION)
        == f"missing authentication token for {host}"
    )
    scm.host_token(host)
    seen: list[tuple[str, bool]] = []
    token, pages = "", 0
    while True:
        page = scm.call(
            "list_scm_organizations",
            _orgs(scm, host, pagination=pagination_pb2.PaginationRequest(page_size=2, token=token)),
        )
        pages += 1
        assert len(page.organizations) <= 2
        seen += [(o.name, o.is_admin) for o in page.organizations]
        assert all(o.url.endswith("/" + o.name) for o in page.organizations)
        token = page.pagination.next_token
        if not token:
            break
    assert pages == 3
    assert seen == [
        ("acme", True),
        ("beta", False),
        ("delta", True),
        ("epsilon", False),
        ("gamma", False),
    ]
    narrowed = scm.call("list_scm_organizations", _orgs(scm, host, query="ta"))
    assert [o.name for o in narrowed.organizations] == ["beta", "delta"]
    # A page token is bound to its request.
    first = scm.call(
        "list_scm_organizations",
        _orgs(scm, host, pagination=pagination_pb2.PaginationRequest(page_size=2)),
    )
    other = _orgs(
        scm,
        host,
        query="a",
        pagination=pagination_pb2.PaginationRequest(token=first.pagination.next_token),
    )
    assert scm.fails("list_scm_organizations", other, Code.INVALID_ARGUMENT).startswith(
        "pagination.token"
    )


@pytest.mark.parametrize("host", HOSTS)
def test_list_organizations_failures(scm: ScmWorld, host: str):
    token_id = scm.host_token(host, REFUSED)
    scm.fails("list_scm_organizations", _orgs(scm, host), Code.PERMISSION_DENIED)
    scm.api(
        "update_host_authentication_token",
        rc.UpdateHostAuthenticationTokenRequest(id=token_id, token="unknown-S3CRET-token"),
    )
    scm.fails("list_scm_organizations", _orgs(scm, host), Code.FAILED_PRECONDITION)
    stub = scm.stub(host)
    stub.switches.rate_limit = 403 if host == "github.com" else 429
    assert "2030-03-17T17:46:40Z" in scm.fails(
        "list_scm_organizations", _orgs(scm, host), Code.RESOURCE_EXHAUSTED
    )
    stub.switches.rate_limit, stub.switches.outage = None, 500
    scm.fails("list_scm_organizations", _orgs(scm, host), Code.UNAVAILABLE)


def test_unsupported_scm_is_unimplemented(scm: ScmWorld):
    scm.integration("bitbucket.org", "bitbucket")
    scm.host_token("bitbucket.org")
    message = scm.fails("list_scm_organizations", _orgs(scm, "bitbucket.org"), Code.UNIMPLEMENTED)
    assert "bitbucket" in message
    found = scm.fails(
        "search_repositories",
        R.SearchRepositoriesRequest(runner_id=scm.runner_id),
        Code.UNIMPLEMENTED,
    )
    assert found == message
