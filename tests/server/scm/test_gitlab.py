"""GitLab adapter against the local GitLab stub, over real HTTP on loopback."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from runnerkit.server.scm import (
    SCMAuthRequiredError,
    SCMConfig,
    SCMError,
    SCMNotFoundError,
    SCMPermissionDeniedError,
    SCMRateLimitedError,
    SCMRegistry,
    SCMUnavailableError,
    api_base_url,
)
from runnerkit.server.scm.gitlab import GitLabAdapter
from tests.server.scm.stubs import ALICE, BOB, REFUSED, RESET_EPOCH, SHA, run_stub

if TYPE_CHECKING:
    from collections.abc import Callable

HOST = "gitlab.com"


@pytest.fixture(scope="module")
def server():
    with run_stub("gitlab") as stub:
        yield stub


@pytest.fixture
def stub(server):
    server.reset()
    return server


@pytest.fixture
def gl(stub):
    config = SCMConfig(api_base_urls={HOST: stub.api_base}, timeout_s=1.5)
    with SCMRegistry(config) as registry:
        yield registry.adapter("gitlab", HOST)


def test_base_url_derivation():
    assert api_base_url("gitlab", "gitlab.com") == "https://gitlab.com/api/v4"
    assert api_base_url("gitlab", "https://git.example.com:8443") == (
        "https://git.example.com:8443/api/v4"
    )
    config = SCMConfig(api_base_urls={"git.example.com": "http://127.0.0.1:2/api/v4/"})
    assert api_base_url("gitlab", "GIT.example.com", config) == "http://127.0.0.1:2/api/v4"


def test_self_managed_host_through_override(stub):
    config = SCMConfig(api_base_urls={"git.example.com": stub.api_base}, timeout_s=2)
    with SCMRegistry(config) as registry:
        adapter = registry.adapter("gitlab", "https://git.example.com")
        assert isinstance(adapter, GitLabAdapter)
        assert adapter.host == "git.example.com"
        assert adapter.check_repository_access(ALICE, "alice", "hello").has_access


def test_check_repository_access(gl, stub):
    assert gl.check_repository_access(ALICE, "alice", "hello").has_access
    assert gl.check_repository_access(ALICE, "acme/platform", "api").has_access
    assert "GET /api/v4/projects/acme%2Fplatform%2Fapi?" in stub.switches.requests
    hidden = gl.check_repository_access(BOB, "acme", "private-app")
    assert not hidden.has_access
    assert "project acme/private-app not found on gitlab.com" in hidden.error_message
    assert not gl.check_repository_access(ALICE, "alice", "nope").has_access


def test_no_and_invalid_token(gl):
    assert gl.check_repository_access("", "alice", "hello").has_access
    assert not gl.check_repository_access("", "acme", "private-app").has_access
    with pytest.raises(SCMAuthRequiredError):
        gl.list_organizations("", page=1, per_page=10)
    with pytest.raises(SCMAuthRequiredError):
        gl.search_repositories("tok-unknown", search="", mode="keyword")


def test_refused_token(gl):
    result = gl.check_repository_access(REFUSED, "alice", "hello")
    assert not result.has_access
    assert "refused access to project alice/hello" in result.error_message
    with pytest.raises(SCMPermissionDeniedError):
        gl.search_repositories(REFUSED, search="", mode="keyword")


def test_repository_and_branch_existence(gl):
    assert gl.repository_exists(ALICE, "acme/platform", "api")
    assert not gl.repository_exists(ALICE, "acme", "nope")
    assert gl.branch_exists(ALICE, "alice", "hello", "feature/x")
    assert not gl.branch_exists(ALICE, "alice", "hello", "gone")
    with pytest.raises(SCMNotFoundError, match="project alice/nope not found"):
        gl.branch_exists(ALICE, "alice", "nope", "main")


def test_merge_requests(gl):
    mr = gl.get_pull_request(ALICE, "alice", "hello", 1)
    assert (mr.number, mr.title, mr.author, mr.from_branch, mr.to_branch) == (
        1,
        "Add greeting",
        "bob",
        "feature/x",
        "main",
    )
    assert (mr.state, mr.draft, mr.head_sha) == ("open", True, SHA)
    assert mr.url == "https://gitlab.com/alice/hello/-/merge_requests/1"
    assert gl.get_pull_request(ALICE, "alice", "hello", 2).state == "merged"
    assert gl.get_pull_request(ALICE, "alice", "hello", 3).state == "closed"
    with pytest.raises(SCMNotFoundError, match="merge request alice/hello!9"):
        gl.get_pull_request(ALICE, "alice", "hello", 9)


def test_locked_merge_request_is_open(gl, stub):
    stub.data.pulls[2].state = "locked"
    assert gl.get_pull_request(ALICE, "alice", "hello", 3).state == "open"


def test_groups_across_pages(gl, stub):
    names, admins, page = [], [], 1
    while True:
        result = gl.list_organizations(ALICE, page=page, per_page=2)
        names += [o.name for o in result.orgs]
        admins += [o.name for o in result.orgs if o.is_admin]
        if result.next_page is None:
            break
        page = result.next_page
    assert page == 3
    assert names == ["acme", "beta", "delta", "epsilon", "gamma"]
    assert admins == ["acme", "delta"]
    assert any("min_access_level=50" in r for r in stub.switches.requests)


def test_groups_query_and_urls(gl):
    result = gl.list_organizations(BOB, query="ac", page=1, per_page=10)
    assert [(o.name, o.url, o.is_admin) for o in result.orgs] == [
        ("acme", "https://gitlab.com/groups/acme", False)
    ]
    assert gl.list_organizations(ALICE, query="zzz", page=1, per_page=10).orgs == []


def test_keyword_search_across_pages(gl, stub):
    seen: list[str] = []
    page: int | None = 1
    while page is not None:
        result = gl.search_repositories(ALICE, search="svc", mode="keyword", page=page, per_page=3)
        assert (result.total_pages, result.total_count) == (3, 7)
        seen += [r.name for r in result.repos]
        page = result.next_page
    assert seen == [f"svc-{i:02}" for i in range(1, 8)]
    assert "search_namespaces" not in stub.switches.requests[-1]
    assert "membership=true" in stub.switches.requests[-1]


def test_native_search_matches_namespaces(gl, stub):
    result = gl.search_repositories(ALICE, search="platform/a", mode="native", per_page=10)
    assert [(r.name, r.url) for r in result.repos] == [
        ("api", "https://gitlab.com/acme/platform/api")
    ]
    assert "search_namespaces=true" in stub.switches.requests[-1]
    assert gl.search_repositories(ALICE, search="platform/a", mode="keyword").repos == []


def test_empty_search_lists_member_projects(gl):
    result = gl.search_repositories(ALICE, search="", mode="keyword", page=1, per_page=4)
    assert (result.total_pages, result.total_count, result.next_page) == (3, 11, 2)


def test_missing_totals_are_unknown(gl, stub):
    stub.switches.drop_headers = ("x-total", "x-total-pages")
    result = gl.search_repositories(ALICE, search="", mode="keyword", page=2, per_page=4)
    assert (result.page, result.total_pages, result.total_count, result.next_page) == (2, -1, -1, 3)


def test_next_page_from_link_header(gl, stub):
    stub.switches.drop_headers = ("x-next-page",)
    assert gl.list_organizations(ALICE, page=1, per_page=3).next_page == 2
    assert gl.list_organizations(ALICE, page=2, per_page=3).next_page is None


def test_rate_limit(gl, stub):
    stub.switches.rate_limit = 429
    with pytest.raises(SCMRateLimitedError, match="resets at 2030-03-17T17:46:40Z") as info:
        gl.list_organizations(ALICE, page=1, per_page=5)
    assert info.value.reset_at == datetime.fromtimestamp(RESET_EPOCH, UTC)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_outage(gl, stub, status):
    stub.switches.outage = status
    with pytest.raises(SCMUnavailableError, match=f"HTTP {status}"):
        gl.check_repository_access(ALICE, "alice", "hello")


def test_timeout(gl, stub):
    stub.switches.delay_s = 2.5
    with pytest.raises(SCMUnavailableError, match="timed out; retry later"):
        gl.get_pull_request(ALICE, "alice", "hello", 1)


def test_token_never_leaks(gl, stub, caplog):
    caplog.set_level(logging.DEBUG)
    calls: list[Callable[[], object]] = [
        lambda: gl.check_repository_access("tok-bad-S3CRET", "alice", "hello"),
        lambda: gl.search_repositories(REFUSED, search="", mode="native"),
        lambda: gl.branch_exists(ALICE, "alice", "nope", "x"),
    ]
    errors: list[SCMError] = []
    for setting in ({}, {"rate_limit": 429}, {"outage": 503}, {"delay_s": 2.5}):
        for name, value in setting.items():
            setattr(stub.switches, name, value)
        for call in calls:
            with pytest.raises(SCMError) as info:
                call()
            errors.append(info.value)
        stub.switches.rate_limit = stub.switches.outage = None
    assert len(errors) == 12
    text = "\n".join([*(f"{e!s} {e!r}" for e in errors), caplog.text, repr(gl)])
    for secret in ("S3CRET", ALICE, REFUSED, "Bearer"):
        assert secret not in text


def test_rate_limit_without_headers(gl, stub):
    stub.switches.rate_limit = 429
    stub.switches.drop_headers = ("ratelimit-reset", "retry-after")
    with pytest.raises(
        SCMRateLimitedError, match=r"rate limit of gitlab\.com exceeded; retry later"
    ):
        gl.search_repositories(ALICE, search="x", mode="keyword")


def test_rate_limit_from_retry_after(gl, stub):
    stub.switches.rate_limit = 429
    stub.switches.drop_headers = ("ratelimit-reset",)
    with pytest.raises(SCMRateLimitedError) as info:
        gl.search_repositories(ALICE, search="x", mode="keyword")
    assert info.value.reset_at is not None
    assert 50 < (info.value.reset_at - datetime.now(UTC)).total_seconds() <= 60
