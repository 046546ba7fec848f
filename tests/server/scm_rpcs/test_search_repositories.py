"""SearchRepositories against the GitHub and GitLab stubs, through the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from connectrpc.code import Code

from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from tests.server.scm.stubs import BOB, REFUSED

if TYPE_CHECKING:
    from tests.server.scm_rpcs.harness import ScmWorld

R = runner_pb2
HOSTS = ("github.com", "gitlab.com")
SVC = [f"svc-{i:02}" for i in range(1, 8)]


def _search(scm: ScmWorld, host: str, **kwargs: object) -> R.SearchRepositoriesRequest:
    return R.SearchRepositoriesRequest(runner_id=scm.runner_id, scm_host=host, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("host", HOSTS)
def test_pages_through_the_results(scm: ScmWorld, host: str):
    scm.host_token(host)
    names: list[str] = []
    token, pages = "", 0
    while True:
        page = scm.call(
            "search_repositories",
            _search(
                scm,
                host,
                search_string="svc",
                pagination=pagination_pb2.PaginationRequest(page_size=3, token=token),
            ),
        )
        pages += 1
        names += [r.name for r in page.repositories]
        assert all(r.url.endswith("/acme/" + r.name) for r in page.repositories)
        assert page.last_page == 3
        token = page.pagination.next_token
        if not token:
            break
        assert token == f"{pages + 1}/3/7"
    assert pages == 3
    assert sorted(names) == SVC


@pytest.mark.parametrize("host", HOSTS)
def test_deprecated_limit_and_native_mode(scm: ScmWorld, host: str):
    scm.host_token(host)
    limited = scm.call("search_repositories", _search(scm, host, search_string="svc", limit=5))
    assert len(limited.repositories) == 5
    assert limited.pagination.next_token == "2/2/7"
    # page_size wins over limit
    both = scm.call(
        "search_repositories",
        _search(
            scm,
            host,
            search_string="svc",
            limit=5,
            pagination=pagination_pb2.PaginationRequest(page_size=7),
        ),
    )
    assert len(both.repositories) == 7
    assert both.pagination.next_token == ""
    assert both.last_page == 1
    native = "svc-03 user:acme" if host == "github.com" else "acme/svc-03"
    found = scm.call(
        "search_repositories",
        _search(scm, host, search_string=native, search_mode=R.SEARCH_MODE_NATIVE),
    )
    assert [r.name for r in found.repositories] == ["svc-03"]
    request = scm.stub(host).switches.requests[-1]
    assert ("user%3Aacme" in request) if host == "github.com" else ("search_namespaces" in request)


def test_without_scm_host_searches_the_token_host(scm: ScmWorld):
    assert scm.call("search_repositories", _search(scm, "")) == R.SearchRepositoriesResponse()
    scm.host_token("gitlab.com")
    found = scm.call("search_repositories", _search(scm, "", search_string="hello"))
    assert [r.name for r in found.repositories] == ["hello"]
    assert found.repositories[0].url == "https://gitlab.com/alice/hello"
    assert scm.gitlab.switches.requests
    assert not scm.github.switches.requests


def test_empty_search_lists_own_repositories(scm: ScmWorld):
    scm.host_token("github.com")
    found = scm.call("search_repositories", _search(scm, "github.com"))
    assert {r.name for r in found.repositories} >= {"hello", "private-app", "svc-01"}


@pytest.mark.parametrize("host", HOSTS)
def test_tokens_missing_refused_or_rejected(scm: ScmWorld, host: str):
    request = _search(scm, host, search_string="svc")
    message = scm.fails("search_repositories", request, Code.FAILED_PRECONDITION)
    assert message == f"missing authentication token for {host}"
    token_id = scm.host_token(host, REFUSED)
    scm.fails("search_repositories", request, Code.PERMISSION_DENIED)
    scm.api(
        "update_host_authentication_token",
        rc.UpdateHostAuthenticationTokenRequest(id=token_id, token="unknown-S3CRET-token"),
    )
    message = scm.fails("search_repositories", request, Code.FAILED_PRECONDITION)
    assert host in message
    # Bob's own token works for him, and search sees what he may see.
    _, bob = scm.api.user("bob", org_admin=True)
    scm.host_token(host, BOB, bearer=bob)
    found = scm.call("search_repositories", _search(scm, host, search_string="hello"), bob)
    assert [r.name for r in found.repositories] == (["hello"] if host == "github.com" else [])


@pytest.mark.parametrize("host", HOSTS)
def test_rate_limit_and_outage(scm: ScmWorld, host: str):
    scm.host_token(host)
    request = _search(scm, host, search_string="svc")
    stub = scm.stub(host)
    stub.switches.rate_limit = 403 if host == "github.com" else 429
    message = scm.fails("search_repositories", request, Code.RESOURCE_EXHAUSTED)
    assert "2030-03-17T17:46:40Z" in message
    assert host in message
    stub.switches.rate_limit = None
    stub.switches.outage = 503
    message = scm.fails("search_repositories", request, Code.UNAVAILABLE)
    assert message.startswith(f"{host} is unavailable")
    assert message.endswith("retry in 30 s")
    stub.switches.outage = None
    stub.switches.delay_s = 1.0
    assert "retry" in scm.fails("search_repositories", request, Code.UNAVAILABLE)


def test_bad_requests(scm: ScmWorld):
    scm.host_token("github.com")
    bad = [
        (_search(scm, "github.com", limit=-1), "limit"),
        (
            _search(scm, "github.com", pagination=pagination_pb2.PaginationRequest(token="x")),
            "pagination.token",
        ),
        (
            _search(scm, "github.com", search_string="invalid:x", search_mode=R.SEARCH_MODE_NATIVE),
            "search_string",
        ),
    ]
    for request, field in bad:
        assert scm.fails("search_repositories", request, Code.INVALID_ARGUMENT).startswith(field)
