"""Tests of the SCM catalog: host normalisation, host lookup and the catalog's own data."""

from __future__ import annotations

import re

import pytest

from runnerkit.server.domain.scm_catalog import (
    CATALOG,
    SCMIntegrationView,
    azure_visualstudio_org,
    default_scm_for_host,
    find_integration,
    normalize_host,
    scm_for_host,
    scm_info,
)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("github.com", "github.com"),
        ("GitHub.COM", "github.com"),
        ("  github.com  ", "github.com"),
        ("https://github.com", "github.com"),
        ("https://github.com/", "github.com"),
        ("HTTPS://github.com/org/repo?x=1#y", "github.com"),
        ("http://github.com", "github.com"),
        ("github.com.", "github.com"),
        ("github.com:443", "github.com"),
        ("https://github.com:443/", "github.com"),
        ("http://git.example.com:80", "git.example.com"),
        ("http://git.example.com:443", "git.example.com"),
        ("https://git.example.com:80", "git.example.com"),
        ("git.example.com:80", "git.example.com"),
        ("@\r0", "0"),
        ("x:443:443", "x"),
        ("git.example.com:8443", "git.example.com:8443"),
        ("user:pw@git.example.com", "git.example.com"),
        ("https://org@dev.azure.com/org", "dev.azure.com"),
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("[::1]:8080", "[::1]:8080"),
        ("[::1]:443", "[::1]"),
        ("", ""),
        ("https://", ""),
    ],
)
def test_normalize_host(raw, normal):
    assert normalize_host(raw) == normal


@pytest.mark.parametrize(
    ("host", "scm_id"),
    [
        ("github.com", "github"),
        ("gitlab.com", "gitlab"),
        ("bitbucket.org", "bitbucket"),
        ("dev.azure.com", "azuredevops"),
        ("myorg.visualstudio.com", "azuredevops"),
        ("https://GITHUB.com/", "github"),
        ("visualstudio.com", None),
        (".visualstudio.com", None),
        ("a.b.visualstudio.com", None),
        ("www.github.com", None),
        ("github.com:8443", None),
        ("git.example.com", None),
        ("", None),
    ],
)
def test_default_scm_for_host(host, scm_id):
    assert default_scm_for_host(host) == scm_id


def test_azure_visualstudio_org():
    assert azure_visualstudio_org("contoso.visualstudio.com") == "contoso"
    assert azure_visualstudio_org("dev.azure.com") is None
    assert azure_visualstudio_org("x.visualstudio.com:8443") is None


INTEGRATIONS = [
    SCMIntegrationView(scm_id="gitlab", host="Git.Example.com", oauth_client_id=None, pat=True),
    SCMIntegrationView(scm_id="gitlab", host="github.com", oauth_client_id="id", pat=False),
]


@pytest.mark.parametrize(
    ("host", "scm_id"),
    [
        ("git.example.com", "gitlab"),
        ("https://git.example.com/", "gitlab"),
        ("github.com", "gitlab"),  # the integration wins over the default host
        ("gitlab.com", "gitlab"),
        ("bitbucket.org", "bitbucket"),
        ("other.example.com", None),
    ],
)
def test_scm_for_host(host, scm_id):
    assert scm_for_host(host, INTEGRATIONS) == scm_id


def test_find_integration_returns_first_match():
    assert find_integration("GIT.example.com", INTEGRATIONS) is INTEGRATIONS[0]
    assert find_integration("nowhere.example", INTEGRATIONS) is None


def test_catalog_ids_and_names():
    assert [(i.scm_id, i.name) for i in CATALOG] == [
        ("github", "GitHub"),
        ("gitlab", "GitLab"),
        ("bitbucket", "Bitbucket"),
        ("azuredevops", "Azure DevOps"),
    ]
    assert scm_info("github") is CATALOG[0]
    assert scm_info("gitea") is None


@pytest.mark.parametrize("info", CATALOG, ids=lambda i: i.scm_id)
def test_catalog_entries_are_well_formed(info):
    https = re.compile(r"https://[^\s]+")
    assert info.supports_oauth
    assert info.supports_pat
    for url in (info.oauth_docs_url, info.oauth_callback_url, info.pat_docs_url):
        assert url is not None
        assert https.fullmatch(url)
    assert info.pat_create_url is not None
    assert https.fullmatch(info.pat_create_url.format(host="h.example"))
    assert https.fullmatch(info.oauth_authorize_url.format(base="https://h.example", host="x"))
    assert info.pat_required_scopes
    assert info.pat_example
    assert all(normalize_host(h) == h for h in info.default_hosts)


def test_pat_examples_have_the_real_prefixes():
    examples = {info.scm_id: info.pat_example for info in CATALOG}
    assert examples["github"].startswith("ghp_")
    assert examples["gitlab"].startswith("glpat-")
    assert examples["bitbucket"].startswith("ATATT")


def test_integration_view_is_frozen():
    view = INTEGRATIONS[0]
    with pytest.raises(AttributeError):
        view.pat = False  # type: ignore[misc]
    assert view.issuer_url is None
