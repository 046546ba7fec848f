"""OAuth token refresh against the GitHub and GitLab stubs, over real HTTP on loopback."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from runnerkit.server.scm import (
    SCMAuthRequiredError,
    SCMConfig,
    SCMError,
    SCMRateLimitedError,
    SCMRegistry,
    SCMUnavailableError,
    SCMUnsupportedError,
    needs_refresh,
    supports_refresh,
    web_base_url,
)
from runnerkit.server.scm.http import make_client
from runnerkit.server.scm.refresh import RefreshedToken, refresh_oauth_token
from tests.server.scm.stubs import CLIENT_ID, CLIENT_SECRET, REFRESH, Stub, run_stub

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOSTS = {"github": "github.com", "gitlab": "gitlab.com"}


@pytest.fixture(scope="module")
def servers():
    with run_stub("github") as github, run_stub("gitlab") as gitlab:
        yield {"github": github, "gitlab": gitlab}


@pytest.fixture(params=["github", "gitlab"])
def env(request, servers):
    scm_id = request.param
    stub = servers[scm_id]
    stub.reset()
    config = SCMConfig(
        api_base_urls={HOSTS[scm_id]: stub.api_base},
        web_base_urls={HOSTS[scm_id]: stub.base_url},
        timeout_s=1.5,
    )
    with SCMRegistry(config) as registry:
        yield scm_id, stub, registry


def _refresh(
    env: tuple[str, Stub, SCMRegistry], refresh_token: str = REFRESH, secret: str = CLIENT_SECRET
) -> RefreshedToken:
    scm_id, _, registry = env
    return refresh_oauth_token(
        registry.client,
        scm_id,
        HOSTS[scm_id],
        refresh_token=refresh_token,
        client_id=CLIENT_ID,
        client_secret=secret,
        config=registry.config,
        clock=lambda: NOW,
    )


def test_refresh_success_and_new_token_works(env):
    scm_id, stub, registry = env
    result = _refresh(env)
    assert result.access_token == "new-access-1"
    assert result.refresh_token == "new-refresh-1"
    lifetime = 28800 if scm_id == "github" else 7200
    assert result.expires_at == NOW + timedelta(seconds=lifetime)
    assert "new-access" not in repr(result)
    assert "new-refresh" not in repr(result)
    path = "/login/oauth/access_token" if scm_id == "github" else "/oauth/token"
    assert stub.switches.requests[-1].startswith(f"POST {path}")
    adapter = registry.adapter(scm_id, HOSTS[scm_id])
    assert adapter.check_repository_access(result.access_token, "acme", "private-app").has_access
    # the refresh token rotated: the old one is spent
    with pytest.raises(SCMAuthRequiredError, match="rejected the token refresh"):
        _refresh(env)


def test_registry_refresh(env):
    scm_id, _, registry = env
    result = registry.refresh(
        scm_id,
        HOSTS[scm_id],
        refresh_token=REFRESH,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    assert result.access_token.startswith("new-access-")


@pytest.mark.parametrize(
    ("refresh_token", "secret"),
    [("rt-unknown", CLIENT_SECRET), (REFRESH, "wrong-secret-S3CRET")],
)
def test_refresh_rejected(env, refresh_token, secret, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SCMAuthRequiredError, match="sign in again") as info:
        _refresh(env, refresh_token=refresh_token, secret=secret)
    assert "S3CRET" not in f"{info.value} {caplog.text}"


def test_no_refresh_token(env):
    with pytest.raises(SCMAuthRequiredError, match="cannot be refreshed"):
        _refresh(env, refresh_token="")


def test_refresh_outage_rate_limit_timeout_never_leak(env, caplog):
    _, stub, _ = env
    caplog.set_level(logging.DEBUG)
    errors: list[SCMError] = []
    stub.switches.outage = 502
    with pytest.raises(SCMUnavailableError) as unavailable:
        _refresh(env)
    errors.append(unavailable.value)
    stub.switches.outage, stub.switches.rate_limit = None, 429
    with pytest.raises(SCMRateLimitedError) as limited:
        _refresh(env)
    errors.append(limited.value)
    stub.switches.rate_limit, stub.switches.delay_s = None, 2.5
    with pytest.raises(SCMUnavailableError, match="timed out") as slow:
        _refresh(env)
    errors.append(slow.value)
    text = "\n".join([*(f"{e!s} {e!r}" for e in errors), caplog.text])
    for secret in (REFRESH, CLIENT_SECRET, "S3CRET"):
        assert secret not in text


def test_unsupported_scm():
    assert supports_refresh("github")
    assert supports_refresh("gitlab")
    assert not supports_refresh("bitbucket")
    with make_client() as client, pytest.raises(SCMUnsupportedError):
        refresh_oauth_token(
            client,
            "bitbucket",
            "bitbucket.org",
            refresh_token="r",
            client_id="c",
            client_secret="s",
        )


def test_needs_refresh():
    assert not needs_refresh(None, NOW)
    assert needs_refresh(NOW, NOW)
    assert needs_refresh(NOW + timedelta(seconds=30), NOW)
    assert not needs_refresh(NOW + timedelta(minutes=5), NOW)


def test_web_base_url():
    assert web_base_url("github.com") == "https://github.com"
    assert web_base_url("git.example.com", issuer_url="https://sso.example.com/") == (
        "https://sso.example.com"
    )
    config = SCMConfig(web_base_urls={"github.com": "http://127.0.0.1:3/"})
    assert web_base_url("github.com", config, "https://ignored") == "http://127.0.0.1:3"
