"""Tests of check_authentication_for_host: default hosts, integrations and unknown hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from runnerkit.server.domain.host_auth import check_authentication_for_host
from runnerkit.server.domain.scm_catalog import CATALOG, SCMIntegrationView

if TYPE_CHECKING:
    from collections.abc import Sequence

    from runnerkit_proto.gitpod.v1 import runner_pb2


def check(
    host: str, integrations: Sequence[SCMIntegrationView] = (), *, authenticated: bool = False
) -> runner_pb2.CheckAuthenticationForHostResponse:
    return check_authentication_for_host(
        host, integrations=list(integrations), authenticated=authenticated
    )


def test_github_default_host():
    r = check("github.com", authenticated=True)
    assert r.authenticated
    assert (r.scm_id, r.scm_name) == ("github", "GitHub")
    assert r.supports_oauth2.auth_url == "https://github.com/login/oauth/authorize"
    assert r.supports_oauth2.docs_url.startswith("https://docs.github.com/")
    assert r.authentication_url == r.supports_oauth2.auth_url
    assert r.supports_pat.create_url == (
        "https://github.com/settings/tokens/new?description=Gitpod"
        "&scopes=repo,read:user,user:email,workflow"
    )
    assert r.supports_pat.example == "ghp_" + "x" * 36
    assert list(r.supports_pat.required_scopes) == ["repo", "read:user", "user:email", "workflow"]
    assert r.supports_pat.docs_url.startswith("https://docs.github.com/")
    assert r.pat_supported


@pytest.mark.parametrize(
    "row",
    [
        (
            "gitlab.com",
            "gitlab",
            "GitLab",
            "https://gitlab.com/oauth/authorize",
            (
                "https://gitlab.com/-/user_settings/personal_access_tokens?name=Gitpod"
                "&scopes=api,read_repository,read_user"
            ),
            ["api", "read_repository", "read_user"],
        ),
        (
            "bitbucket.org",
            "bitbucket",
            "Bitbucket",
            "https://bitbucket.org/site/oauth2/authorize",
            "https://id.atlassian.com/manage-profile/security/api-tokens",
            [
                "read:user:bitbucket",
                "read:repository:bitbucket",
                "write:repository:bitbucket",
                "read:pullrequest:bitbucket",
            ],
        ),
        (
            "dev.azure.com",
            "azuredevops",
            "Azure DevOps",
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
            "https://dev.azure.com/_usersSettings/tokens",
            ["vso.code_write", "vso.profile"],
        ),
        (
            "contoso.visualstudio.com",
            "azuredevops",
            "Azure DevOps",
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
            "https://contoso.visualstudio.com/_usersSettings/tokens",
            ["vso.code_write", "vso.profile"],
        ),
    ],
)
def test_other_default_hosts(row):
    host, scm_id, name, auth_url, create_url, scopes = row
    r = check(host)
    assert (r.scm_id, r.scm_name) == (scm_id, name)
    assert r.supports_oauth2.auth_url == auth_url
    assert r.authentication_url == auth_url
    assert r.supports_pat.create_url == create_url
    assert list(r.supports_pat.required_scopes) == scopes
    assert r.pat_supported
    assert not r.authenticated


@pytest.mark.parametrize(
    "host", ["GitHub.com", "https://github.com/", "github.com:443", "http://github.com/org/repo"]
)
def test_host_is_normalised(host):
    r = check(host)
    assert r.scm_id == "github"
    assert r.supports_pat.create_url.startswith("https://github.com/settings/")


@pytest.mark.parametrize(
    "host", ["example.com", "", "github.com:8443", "www.github.com", "not a host"]
)
@pytest.mark.parametrize("authenticated", [True, False])
def test_unknown_host_answers_with_nothing(host, authenticated):
    r = check(host, authenticated=authenticated)
    assert r == type(r)(authenticated=False)


def test_integration_with_oauth_and_pat():
    integration = SCMIntegrationView("gitlab", "git.example.com", "app-id 1", pat=True)
    r = check("GIT.example.com", [integration], authenticated=True)
    assert (r.scm_id, r.scm_name, r.authenticated) == ("gitlab", "GitLab", True)
    assert (
        r.supports_oauth2.auth_url == "https://git.example.com/oauth/authorize?client_id=app-id+1"
    )
    assert r.authentication_url == r.supports_oauth2.auth_url
    assert r.supports_pat.create_url.startswith(
        "https://git.example.com/-/user_settings/personal_access_tokens"
    )
    assert r.pat_supported


def test_integration_with_port_keeps_port_in_urls():
    integration = SCMIntegrationView("github", "ghe.example.com:8443", "cid", pat=True)
    r = check("https://ghe.example.com:8443/", [integration])
    assert r.supports_oauth2.auth_url == (
        "https://ghe.example.com:8443/login/oauth/authorize?client_id=cid"
    )
    assert r.supports_pat.create_url.startswith("https://ghe.example.com:8443/settings/tokens/new")


@pytest.mark.parametrize("client_id", [None, ""])
def test_integration_pat_only(client_id):
    integration = SCMIntegrationView("github", "ghe.example.com", client_id, pat=True)
    r = check("ghe.example.com", [integration])
    assert not r.HasField("supports_oauth2")
    assert r.authentication_url == ""
    assert r.HasField("supports_pat")
    assert r.pat_supported


def test_integration_oauth_only():
    integration = SCMIntegrationView("github", "ghe.example.com", "cid", pat=False)
    r = check("ghe.example.com", [integration])
    assert r.HasField("supports_oauth2")
    assert not r.HasField("supports_pat")
    assert not r.pat_supported


def test_integration_with_neither_method_still_names_the_scm():
    integration = SCMIntegrationView("bitbucket", "bb.example.com", None, pat=False)
    r = check("bb.example.com", [integration], authenticated=True)
    assert (r.scm_id, r.scm_name, r.authenticated) == ("bitbucket", "Bitbucket", True)
    assert not r.HasField("supports_oauth2")
    assert not r.HasField("supports_pat")
    assert not r.pat_supported
    assert r.authentication_url == ""


def test_integration_overrides_default_host():
    integration = SCMIntegrationView("github", "github.com", None, pat=True)
    r = check("github.com", [integration])
    assert not r.HasField("supports_oauth2")
    assert r.HasField("supports_pat")


def test_issuer_url_overrides_oauth_base():
    integration = SCMIntegrationView(
        "gitlab", "git.example.com", "cid", pat=False, issuer_url="https://sso.example.com/"
    )
    r = check("git.example.com", [integration])
    assert r.supports_oauth2.auth_url == "https://sso.example.com/oauth/authorize?client_id=cid"


def test_integration_with_scm_unknown_to_catalog_is_an_unknown_host():
    integration = SCMIntegrationView("gitea", "gitea.example.com", "cid", pat=True)
    r = check("gitea.example.com", [integration], authenticated=True)
    assert r == type(r)(authenticated=False)


@pytest.mark.parametrize("info", CATALOG, ids=lambda i: i.scm_id)
def test_every_default_host_answers(info):
    for host in info.default_hosts:
        r = check(host)
        assert r.scm_id == info.scm_id
        assert r.supports_oauth2.docs_url == info.oauth_docs_url
        assert r.supports_pat.example == info.pat_example
