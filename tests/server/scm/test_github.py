"""GitHub adapter against the local GitHub stub, over real HTTP on loopback."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from runnerkit.server.domain.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from runnerkit.server.scm import (
    ResourceExhaustedError,
    SCMAuthRequiredError,
    SCMBadRequestError,
    SCMConfig,
    SCMError,
    SCMNotFoundError,
    SCMPermissionDeniedError,
    SCMRateLimitedError,
    SCMRegistry,
    SCMRequestFailedError,
    SCMUnavailableError,
    SCMUnsupportedError,
    UnavailableError,
    api_base_url,
)
from runnerkit.server.scm.github import GitHubAdapter
from tests.server.scm.stubs import ALICE, BOB, REFUSED, RESET_EPOCH, SHA, run_stub

if TYPE_CHECKING:
    from collections.abc import Callable

HOST = "github.com"


@pytest.fixture(scope="module")
def server():
    with run_stub("github") as stub:
        yield stub


@pytest.fixture
def stub(server):
    server.reset()
    return server


@pytest.fixture
def registry(stub):
    config = SCMConfig(api_base_urls={HOST: stub.api_base}, timeout_s=1.5)
    with SCMRegistry(config) as registry:
        yield registry


@pytest.fixture
def gh(registry):
    return registry.adapter("github", HOST)


def test_base_url_derivation():
    assert api_base_url("github", "github.com") == "https://api.github.com"
    assert api_base_url("github", "https://GHE.example.com/") == "https://ghe.example.com/api/v3"
    assert api_base_url("github", "ghe.example.com:8443") == "https://ghe.example.com:8443/api/v3"
    config = SCMConfig(api_base_urls={"GitHub.com": "http://127.0.0.1:1/"})
    assert api_base_url("github", "github.com", config) == "http://127.0.0.1:1"
    with pytest.raises(ValueError, match="bitbucket"):
        api_base_url("bitbucket", "bitbucket.org")


def test_registry_picks_and_caches(registry):
    adapter = registry.adapter("github", "https://github.com")
    assert isinstance(adapter, GitHubAdapter)
    assert adapter is registry.adapter("github", "github.com")
    assert adapter.host == "github.com"
    with pytest.raises(SCMUnsupportedError, match="bitbucket"):
        registry.adapter("bitbucket", "bitbucket.org")


def test_check_repository_access(gh):
    assert gh.check_repository_access(ALICE, "alice", "hello").has_access
    private = gh.check_repository_access(ALICE, "acme", "private-app")
    assert private.has_access
    assert private.error_message == ""
    hidden = gh.check_repository_access(BOB, "acme", "private-app")
    assert not hidden.has_access
    assert "acme/private-app not found on github.com" in hidden.error_message
    missing = gh.check_repository_access(ALICE, "alice", "nope")
    assert not missing.has_access


def test_anonymous_sees_only_public_repositories(gh):
    assert gh.check_repository_access("", "alice", "hello").has_access
    assert not gh.check_repository_access("", "acme", "private-app").has_access
    with pytest.raises(SCMAuthRequiredError):
        gh.list_organizations("", page=1, per_page=10)


def test_invalid_token_is_auth_required(gh):
    with pytest.raises(SCMAuthRequiredError, match="rejected the authentication token") as info:
        gh.check_repository_access("tok-unknown", "alice", "hello")
    assert isinstance(info.value, FailedPreconditionError)


def test_refused_token(gh):
    result = gh.check_repository_access(REFUSED, "alice", "hello")
    assert not result.has_access
    assert "refused access to repository alice/hello" in result.error_message
    with pytest.raises(SCMPermissionDeniedError) as info:
        gh.list_organizations(REFUSED, page=1, per_page=10)
    assert isinstance(info.value, PermissionDeniedError)


def test_repository_and_branch_existence(gh):
    assert gh.repository_exists(ALICE, "alice", "hello")
    assert not gh.repository_exists(ALICE, "alice", "nope")
    assert gh.branch_exists(ALICE, "alice", "hello", "main")
    assert gh.branch_exists(ALICE, "alice", "hello", "feature/x")
    assert not gh.branch_exists(ALICE, "alice", "hello", "gone")
    with pytest.raises(SCMNotFoundError, match="alice/nope not found") as info:
        gh.branch_exists(ALICE, "alice", "nope", "main")
    assert isinstance(info.value, NotFoundError)


def test_pull_requests(gh, stub):
    pr = gh.get_pull_request(ALICE, "alice", "hello", 1)
    assert (pr.number, pr.title, pr.author) == (1, "Add greeting", "bob")
    assert (pr.from_branch, pr.to_branch, pr.state, pr.draft) == ("feature/x", "main", "open", True)
    assert pr.url == "https://github.com/alice/hello/pull/1"
    assert pr.head_sha == SHA
    assert gh.get_pull_request(ALICE, "alice", "hello", 2).state == "merged"
    assert gh.get_pull_request(ALICE, "alice", "hello", 3).state == "closed"
    with pytest.raises(SCMNotFoundError, match="pull request alice/hello#9"):
        gh.get_pull_request(ALICE, "alice", "hello", 9)
    with pytest.raises(SCMNotFoundError):
        gh.get_pull_request(BOB, "acme", "private-app", 1)
    assert any("/repos/alice/hello/pulls/1" in r for r in stub.switches.requests)


def test_organisations_across_pages(gh):
    pages, page = [], 1
    while True:
        result = gh.list_organizations(ALICE, page=page, per_page=2)
        pages.append(result.orgs)
        if result.next_page is None:
            break
        page = result.next_page
    assert [len(p) for p in pages] == [2, 2, 1]
    orgs = [o for p in pages for o in p]
    assert [o.name for o in orgs] == ["acme", "beta", "delta", "epsilon", "gamma"]
    assert [o.name for o in orgs if o.is_admin] == ["acme", "delta"]
    assert orgs[0].url == "https://github.com/acme"


def test_organisations_query_filters_each_page(gh):
    result = gh.list_organizations(ALICE, query="ET", page=1, per_page=100)
    assert [o.name for o in result.orgs] == ["beta"]
    assert result.next_page is None


def test_keyword_search_across_pages(gh, stub):
    seen: list[str] = []
    totals = set()
    page: int | None = 1
    while page is not None:
        result = gh.search_repositories(ALICE, search="svc", mode="keyword", page=page, per_page=3)
        seen += [r.name for r in result.repos]
        totals.add((result.total_pages, result.total_count))
        page = result.next_page
    assert seen == [f"svc-{i:02}" for i in range(1, 8)]
    assert totals == {(3, 7)}
    assert "q=%22svc%22+in%3Aname" in stub.switches.requests[0]


def test_keyword_search_quotes_qualifiers(gh, stub):
    gh.search_repositories(ALICE, search="user:bob hello", mode="keyword", page=1, per_page=5)
    assert "q=%22user%3Abob%22+%22hello%22+in%3Aname" in stub.switches.requests[-1]


def test_native_search_is_verbatim(gh, stub):
    result = gh.search_repositories(
        ALICE, search="hello org:alice", mode="native", page=1, per_page=5
    )
    assert [(r.name, r.url) for r in result.repos] == [("hello", "https://github.com/alice/hello")]
    assert (result.total_count, result.total_pages, result.next_page) == (1, 1, None)
    assert "q=hello+org%3Aalice" in stub.switches.requests[-1]


def test_empty_search_lists_own_repositories(gh):
    first = gh.search_repositories(ALICE, search="", mode="keyword", page=1, per_page=4)
    assert (first.total_pages, first.total_count, first.next_page) == (3, -1, 2)
    last = gh.search_repositories(ALICE, search=" ", mode="native", page=3, per_page=4)
    assert (last.total_pages, last.next_page) == (3, None)
    assert len(last.repos) == 3  # 11: hello, empty, private-app, api, 7 svc


@pytest.mark.parametrize("status", [403, 429])
def test_rate_limit(gh, stub, status):
    stub.switches.rate_limit = status
    with pytest.raises(SCMRateLimitedError) as info:
        gh.check_repository_access(ALICE, "alice", "hello")
    assert isinstance(info.value, ResourceExhaustedError)
    if status == 403:
        assert info.value.reset_at == datetime.fromtimestamp(RESET_EPOCH, UTC)
        assert "resets at 2030-03-17T17:46:40Z" in str(info.value)
    else:
        assert info.value.reset_at is not None
        assert info.value.reset_at > datetime.now(UTC)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_outage(gh, stub, status):
    stub.switches.outage = status
    with pytest.raises(SCMUnavailableError, match=f"HTTP {status}") as info:
        gh.search_repositories(ALICE, search="x", mode="keyword", page=1, per_page=5)
    assert isinstance(info.value, UnavailableError)
    assert info.value.retry_after_s == (30.0 if status == 503 else None)


def test_timeout(gh, stub):
    stub.switches.delay_s = 2.5
    with pytest.raises(SCMUnavailableError, match="timed out"):
        gh.repository_exists(ALICE, "alice", "hello")


def test_connection_refused():
    config = SCMConfig(api_base_urls={HOST: "http://127.0.0.1:9"}, timeout_s=1)
    with SCMRegistry(config) as registry, pytest.raises(SCMUnavailableError, match="reached"):
        registry.adapter("github", HOST).repository_exists(ALICE, "alice", "hello")


def test_github_enterprise_prefix():
    with run_stub("github", prefix="/api/v3") as stub:
        base = stub.base_url + "/api/v3"
        config = SCMConfig(api_base_urls={"ghe.example.com": base}, timeout_s=2)
        with SCMRegistry(config) as registry:
            adapter = registry.adapter("github", "ghe.example.com")
            assert adapter.check_repository_access(ALICE, "alice", "hello").has_access
            orgs = adapter.list_organizations(ALICE, page=1, per_page=100)
            assert orgs.orgs[0].url == "https://ghe.example.com/acme"
        assert stub.switches.requests[0].startswith("GET /api/v3/repos/alice/hello")


def test_token_never_leaks(gh, stub, caplog):
    caplog.set_level(logging.DEBUG)
    errors: list[Exception] = []
    calls: list[Callable[[], object]] = [
        lambda: gh.check_repository_access("tok-bad-S3CRET", "alice", "hello"),
        lambda: gh.list_organizations(REFUSED, page=1, per_page=5),
        lambda: gh.get_pull_request(ALICE, "alice", "hello", 99),
    ]
    for switch in ("rate_limit", "outage", "delay_s"):
        for call in calls:
            try:
                call()
            except SCMError as exc:
                errors.append(exc)
        setattr(stub.switches, switch, {"rate_limit": 403, "outage": 502, "delay_s": 2.5}[switch])
    for call in calls:
        with pytest.raises(SCMUnavailableError) as info:
            call()
        errors.append(info.value)
    assert len(errors) == 12
    text = "\n".join([*(f"{e!s} {e!r}" for e in errors), caplog.text, repr(gh)])
    for secret in ("S3CRET", ALICE, REFUSED, "Bearer"):
        assert secret not in text
    assert all(e.__cause__ is None for e in errors)


def test_invalid_native_query_is_invalid_argument(gh):
    with pytest.raises(SCMBadRequestError, match="rejected the request") as info:
        gh.search_repositories(ALICE, search="invalid:thing", mode="native")
    assert isinstance(info.value, InvalidArgumentError)
    assert info.value.field == "search_string"


def test_empty_repository_has_no_branches(gh):
    assert gh.repository_exists(ALICE, "alice", "empty")
    assert not gh.branch_exists(ALICE, "alice", "empty", "main")


@pytest.mark.parametrize(
    ("status", "error", "code_class"),
    [
        (400, SCMBadRequestError, InvalidArgumentError),
        (410, SCMNotFoundError, NotFoundError),
        (409, SCMRequestFailedError, FailedPreconditionError),
        (451, SCMRequestFailedError, FailedPreconditionError),
        (504, SCMUnavailableError, UnavailableError),
    ],
)
def test_other_statuses(gh, stub, status, error, code_class):
    stub.switches.outage = status
    with pytest.raises(error) as info:
        gh.get_pull_request(ALICE, "alice", "hello", 1)
    assert isinstance(info.value, code_class)
    assert "alice/hello#1" in str(info.value)


def test_search_beyond_the_result_cap_is_empty(gh, stub):
    before = len(stub.switches.requests)
    result = gh.search_repositories(ALICE, search="svc", mode="keyword", page=11, per_page=100)
    assert (result.repos, result.next_page) == ([], None)
    assert len(stub.switches.requests) == before


@pytest.mark.parametrize("token", ["tok S3CRET", "tok-S3CRET\n", "tök-S3CRET"])
def test_unsendable_token_is_auth_required_without_leaking(gh, token, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SCMAuthRequiredError, match="malformed") as info:
        gh.check_repository_access(token, "alice", "hello")
    assert "S3CRET" not in f"{info.value!s} {info.value!r} {caplog.text}"
    assert info.value.__context__ is None
