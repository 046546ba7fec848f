"""ParseContextURL, CheckAuthenticationForHost and the SCM RPCs that need a host token."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from connectrpc.code import Code

from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from tests.support.server import create_user

if TYPE_CHECKING:
    from tests.server.harness import Api

R = runner_pb2


def _runner(api: Api) -> str:
    created = api(
        "create_runner",
        R.CreateRunnerRequest(name="runner", provider=rc_pb2.RUNNER_PROVIDER_AWS_EC2),
    )
    return str(created.runner.runner_id)


def test_parse_context_url(api):
    rid = _runner(api)
    url = "https://github.com/gitpod-io/gitpod/pull/42"
    parsed = api("parse_context_url", R.ParseContextURLRequest(runner_id=rid, context_url=url))
    assert parsed.original_context_url == url
    assert parsed.git.host == "github.com"
    assert (parsed.git.owner, parsed.git.repo) == ("gitpod-io", "gitpod")
    assert parsed.pull_request.id == "42"
    assert parsed.pr.id == "42"
    assert parsed.scm_id == "github"
    tree = api(
        "parse_context_url",
        R.ParseContextURLRequest(
            runner_id=rid, context_url="https://gitlab.com/group/project/-/tree/main"
        ),
    )
    assert (tree.scm_id, tree.git.branch) == ("gitlab", "main")
    for bad in ("", "ftp://github.com/a/b", "https://github.com/", "https://unknown.example/a/b"):
        message = api.fails(
            "parse_context_url",
            R.ParseContextURLRequest(runner_id=rid, context_url=bad),
            Code.INVALID_ARGUMENT,
        )
        assert message.startswith("context_url:"), message


def test_check_authentication_for_host(api):
    rid = _runner(api)
    github = api(
        "check_authentication_for_host",
        R.CheckAuthenticationForHostRequest(runner_id=rid, host="github.com"),
    )
    assert github.scm_id == "github"
    assert github.authenticated is False
    assert github.HasField("supports_pat") or github.HasField("supports_oauth2")
    unknown = api(
        "check_authentication_for_host",
        R.CheckAuthenticationForHostRequest(runner_id=rid, host="nowhere.example"),
    )
    assert unknown == R.CheckAuthenticationForHostResponse(authenticated=False)
    assert api.fails(
        "check_authentication_for_host",
        R.CheckAuthenticationForHostRequest(runner_id=rid),
        Code.INVALID_ARGUMENT,
    ).startswith("host:")


def test_scm_calls_need_a_host_token(api):
    rid = _runner(api)
    calls = [
        (
            "check_repository_access",
            R.CheckRepositoryAccessRequest(runner_id=rid, repository_url="https://github.com/a/b"),
        ),
        (
            "list_scm_organizations",
            R.ListSCMOrganizationsRequest(runner_id=rid, scm_host="github.com"),
        ),
        (
            "search_repositories",
            R.SearchRepositoriesRequest(runner_id=rid, scm_host="gitlab.com", search_string="x"),
        ),
    ]
    for method, request in calls:
        message = api.fails(method, request, Code.FAILED_PRECONDITION)
        assert message.startswith("missing authentication token for "), message
    invalid = [
        (
            "check_repository_access",
            R.CheckRepositoryAccessRequest(runner_id=rid, repository_url="not a url"),
            "repository_url",
        ),
        (
            "check_repository_access",
            R.CheckRepositoryAccessRequest(runner_id=rid),
            "repository_url",
        ),
        ("list_scm_organizations", R.ListSCMOrganizationsRequest(runner_id=rid), "scm_host"),
        (
            "search_repositories",
            R.SearchRepositoriesRequest(runner_id=rid, scm_host="bad host!"),
            "scm_host",
        ),
        (
            "search_repositories",
            R.SearchRepositoriesRequest(
                runner_id=rid,
                scm_host="github.com",
                pagination=pagination_pb2.PaginationRequest(page_size=-1),
            ),
            "pagination.page_size",
        ),
    ]
    for method, request, field in invalid:
        assert api.fails(method, request, Code.INVALID_ARGUMENT).startswith(field + ":")


def test_scm_calls_need_access_to_the_runner(api):
    rid = _runner(api)
    _, plain = create_user(api.directory, name="plain")
    api.fails(
        "parse_context_url",
        R.ParseContextURLRequest(runner_id=rid, context_url="https://github.com/a/b"),
        Code.PERMISSION_DENIED,
        plain,
    )
    api.fails(
        "check_authentication_for_host",
        R.CheckAuthenticationForHostRequest(runner_id=rid, host="github.com"),
        Code.PERMISSION_DENIED,
        plain,
    )
    api.fails(
        "search_repositories",
        R.SearchRepositoriesRequest(runner_id=rid, scm_host="github.com"),
        Code.PERMISSION_DENIED,
        plain,
    )
    api.fails(
        "list_scm_organizations",
        R.ListSCMOrganizationsRequest(runner_id=str(uuid.uuid4()), scm_host="github.com"),
        Code.NOT_FOUND,
    )
