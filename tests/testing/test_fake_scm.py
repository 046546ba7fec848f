"""The SCM RPCs against the offline fakes: LocalRunnerAPI(scm="fake") with a seeded SCM."""

from __future__ import annotations

import pytest

import runnerkit
from runnerkit.testing import LocalRunnerAPI
from runnerkit.testing.fake_scm import FakeRepo

GH = "ghp_ALICE-fake-token-1"
GL = "glpat-ALICE-fake-token-2"
SEED = {
    "users": [{"name": "alice", "token": "alice-api-token-0123", "runner_creator": True}],
    "runners": [
        {
            "name": "dev",
            "provider": "RUNNER_PROVIDER_LINUX_HOST",
            "creator": "alice",
            "scm_integrations": [
                {"scm_id": "github", "host": "github.com", "pat": True},
                {"scm_id": "gitlab", "host": "gitlab.com", "pat": True},
                {"scm_id": "github", "host": "ghe.example.com", "pat": True},
            ],
            "host_tokens": [
                {
                    "subject": "alice",
                    "host": h,
                    "token": t,
                    "source": "HOST_AUTHENTICATION_TOKEN_SOURCE_PAT",
                }
                for h, t in (("github.com", GH), ("gitlab.com", GL), ("ghe.example.com", GH))
            ],
        }
    ],
    "scm": {
        "github": {
            "hosts": ["ghe.example.com"],
            "tokens": {GH: "alice"},
            "repositories": [
                {"name": "alice/hello", "branches": {"main": "a" * 40, "feature/x": "b" * 40}},
                {"name": "acme/secret-app", "private": True, "readers": ["alice"]},
                {"name": "acme/hidden", "private": True},
            ],
            "organizations": [{"name": "acme", "members": {"alice": "admin"}}],
            "pull_requests": [
                {
                    "repository": "alice/hello",
                    "number": 7,
                    "title": "Add greeting",
                    "author": "bob",
                    "from_branch": "feature/x",
                    "draft": True,
                },
            ],
        },
        "gitlab": {
            "tokens": {GL: "alice"},
            "repositories": [{"name": "team/sub/service", "private": True, "readers": ["alice"]}],
            "organizations": [{"name": "team/sub", "members": {"alice": "member"}}],
        },
    },
}


@pytest.fixture(scope="module")
def scm_api():
    with LocalRunnerAPI(seed=SEED, scm="fake") as api:
        yield api


@pytest.fixture
def alice(scm_api):
    scm_api.reset()
    with scm_api.client(bearer_token="alice-api-token-0123") as client:
        yield client, scm_api.seeded.runner_ids[0]


def test_check_repository_access(alice):
    client, runner = alice
    check = client.runners.check_repository_access
    assert check(runner_id=runner, repository_url="https://github.com/acme/secret-app").has_access
    assert check(runner_id=runner, repository_url="https://gitlab.com/team/sub/service").has_access
    denied = check(runner_id=runner, repository_url="https://github.com/acme/hidden")
    assert not denied.has_access
    assert denied.error_message


def test_search_repositories_and_organizations(alice):
    client, runner = alice
    found = client.runners.search_repositories(
        runner_id=runner, scm_host="github.com", search_string="secret"
    )
    assert [r.name for r in found.repositories] == ["secret-app"]
    orgs = client.runners.list_scm_organizations(runner_id=runner, scm_host="github.com")
    assert [(o.name, o.is_admin) for o in orgs.organizations] == [("acme", True)]
    groups = client.runners.list_scm_organizations(runner_id=runner, scm_host="gitlab.com")
    assert [o.name for o in groups.organizations] == ["team/sub"]


def test_parse_context_url_is_enriched_from_the_fake(alice):
    client, runner = alice
    parsed = client.runners.parse_context_url(
        runner_id=runner, context_url="https://github.com/alice/hello/pull/7"
    )
    assert parsed.pull_request.title == "Add greeting"
    assert parsed.pull_request.from_branch == "feature/x"
    enterprise = client.runners.parse_context_url(
        runner_id=runner, context_url="https://ghe.example.com/alice/hello/pull/7"
    )
    assert enterprise.pull_request.title == "Add greeting"
    with pytest.raises(runnerkit.NotFoundError):
        client.runners.parse_context_url(
            runner_id=runner, context_url="https://github.com/alice/hello/tree/no-such-branch"
        )


def test_fake_data_changes_while_running_and_reset_restores_it(scm_api, alice):
    client, runner = alice
    scm_api.fake_scm.github.data.repos.append(FakeRepo("alice", "late-secret", private=True))
    found = client.runners.search_repositories(
        runner_id=runner, scm_host="github.com", search_string="late"
    )
    assert [r.name for r in found.repositories] == ["late-secret"]
    scm_api.reset()
    found = client.runners.search_repositories(
        runner_id=runner, scm_host="github.com", search_string="late"
    )
    assert list(found.repositories) == []


def test_outage_switch_and_no_network_for_other_hosts(scm_api, alice):
    client, runner = alice
    scm_api.fake_scm.github.switches.outage = 503
    with pytest.raises(runnerkit.UnavailableError):
        client.runners.list_scm_organizations(runner_id=runner, scm_host="github.com", timeout=10)
    scm_api.fake_scm.github.switches.outage = None
    client.runners.configurations.scm_integrations.create(
        runner_id=runner, scm_id="gitlab", host="git.nowhere.example", pat=True
    )
    client.runners.configurations.host_authentication_tokens.create(
        runner_id=runner,
        host="git.nowhere.example",
        token=GL,
        source="HOST_AUTHENTICATION_TOKEN_SOURCE_PAT",
    )
    with pytest.raises(runnerkit.UnavailableError):
        client.runners.list_scm_organizations(runner_id=runner, scm_host="git.nowhere.example")
