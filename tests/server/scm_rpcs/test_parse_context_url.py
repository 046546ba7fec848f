"""ParseContextURL enrichment against the stubs, through the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from connectrpc.code import Code

from runnerkit_proto.gitpod.v1 import agent_pb2, runner_pb2
from tests.server.scm.stubs import REFUSED, SHA

if TYPE_CHECKING:
    from tests.server.scm_rpcs.harness import ScmWorld

R = runner_pb2
PR = agent_pb2.PullRequest
HOSTS = ("github.com", "gitlab.com")


def _parse(scm: ScmWorld, url: str, *, runner: bool = True) -> R.ParseContextURLRequest:
    return R.ParseContextURLRequest(runner_id=scm.runner_id if runner else "", context_url=url)


def _pr_url(host: str, number: int, repo: str = "alice/hello") -> str:
    kind = "pull" if host == "github.com" else "-/merge_requests"
    return f"https://{host}/{repo}/{kind}/{number}"


def _tree(host: str, branch: str, repo: str = "alice/hello") -> str:
    return f"https://{host}/{repo}/{'tree' if host == 'github.com' else '-/tree'}/{branch}"


@pytest.mark.parametrize("host", HOSTS)
def test_pull_requests_are_filled_in(scm: ScmWorld, host: str):
    offline = scm.call("parse_context_url", _parse(scm, _pr_url(host, 1)))
    assert offline.pull_request.id == "1"
    assert not offline.pull_request.title  # no token: the offline answer
    scm.host_token(host)
    parsed = scm.call("parse_context_url", _parse(scm, _pr_url(host, 1)))
    pull = parsed.pull_request
    assert (pull.id, pull.title, pull.author) == ("1", "Add greeting", "bob")
    assert (pull.from_branch, pull.to_branch) == ("feature/x", "main")
    assert (pull.state, pull.draft, pull.head_sha) == (PR.STATE_OPEN, True, SHA)
    assert pull.url == _pr_url(host, 1)
    assert (pull.repository.host, pull.repository.owner, pull.repository.name) == (
        host,
        "alice",
        "hello",
    )
    assert pull.repository.clone_url == f"https://{host}/alice/hello.git"
    assert parsed.pr == R.ParseContextURLResponse.PullRequest(
        id="1", title="Add greeting", from_branch="feature/x", to_branch="main"
    )
    merged = scm.call("parse_context_url", _parse(scm, _pr_url(host, 2))).pull_request
    closed = scm.call("parse_context_url", _parse(scm, _pr_url(host, 3))).pull_request
    assert (merged.state, merged.draft, closed.state) == (PR.STATE_MERGED, False, PR.STATE_CLOSED)
    # Without a runner the answer stays offline.
    plain = scm.call("parse_context_url", _parse(scm, _pr_url(host, 1), runner=False))
    assert not plain.pull_request.title


@pytest.mark.parametrize("host", HOSTS)
def test_missing_repository_branch_or_request_is_not_found(scm: ScmWorld, host: str):
    scm.host_token(host)
    assert scm.call("parse_context_url", _parse(scm, _tree(host, "feature/x"))).git.branch == (
        "feature/x"
    )
    assert scm.call("parse_context_url", _parse(scm, f"https://{host}/acme/private-app"))
    message = scm.fails("parse_context_url", _parse(scm, _tree(host, "nope")), Code.NOT_FOUND)
    assert "branch nope" in message
    assert "alice/hello" in message
    message = scm.fails(
        "parse_context_url", _parse(scm, f"https://{host}/acme/missing"), Code.NOT_FOUND
    )
    assert "acme/missing" in message
    scm.fails("parse_context_url", _parse(scm, _tree(host, "main", "acme/gone")), Code.NOT_FOUND)
    scm.fails("parse_context_url", _parse(scm, _pr_url(host, 99)), Code.NOT_FOUND)


@pytest.mark.parametrize("host", HOSTS)
def test_refused_rejected_and_failing_upstreams(scm: ScmWorld, host: str):
    url = f"https://{host}/alice/hello"
    scm.host_token(host, REFUSED)
    scm.fails("parse_context_url", _parse(scm, url), Code.PERMISSION_DENIED)
    _, other = scm.api.user("other", org_admin=True)
    scm.host_token(host, "unknown-S3CRET-token", bearer=other)
    assert host in scm.fails("parse_context_url", _parse(scm, url), Code.FAILED_PRECONDITION, other)
    scm.stub(host).switches.outage = 503
    assert "retry in 30 s" in scm.fails(
        "parse_context_url", _parse(scm, url), Code.UNAVAILABLE, other
    )


def test_expired_token_without_refresh_keeps_the_offline_answer(scm: ScmWorld):
    scm.host_token("github.com", expires_in_s=-3600)
    parsed = scm.call("parse_context_url", _parse(scm, _pr_url("github.com", 1)))
    assert parsed.pull_request.id == "1"
    assert not parsed.pull_request.title
    assert not scm.github.switches.requests
    message = scm.fails(
        "search_repositories",
        R.SearchRepositoriesRequest(runner_id=scm.runner_id, scm_host="github.com"),
        Code.FAILED_PRECONDITION,
    )
    assert message == "missing authentication token for github.com"
