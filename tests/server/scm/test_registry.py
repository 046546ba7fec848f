"""The SCM registry: one shared client, built on the first SCM call, and httpx loaded only then."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from runnerkit.server.scm import SCMConfig, SCMRegistry, SCMUnsupportedError
from runnerkit.server.scm.github import GitHubAdapter
from runnerkit.server.scm.gitlab import GitLabAdapter


def test_the_client_is_built_on_first_use_and_shared():
    registry = SCMRegistry(SCMConfig(timeout_s=3.5, max_connections=7))
    assert registry._client is None  # nothing built by the constructor
    github = registry.adapter("github", "GitHub.com")
    client = registry.client
    assert isinstance(client, httpx.Client)
    assert client.timeout == httpx.Timeout(3.5)
    assert isinstance(github, GitHubAdapter)
    assert registry.adapter("github", "github.com") is github
    gitlab = registry.adapter("gitlab", "gitlab.com")
    assert isinstance(gitlab, GitLabAdapter)
    assert registry.client is client
    registry.close()
    assert client.is_closed


def test_closing_an_unused_registry_builds_nothing():
    registry = SCMRegistry()
    registry.close()
    assert registry._client is None
    with pytest.raises(RuntimeError, match="closed"):
        _ = registry.client


def test_a_given_client_is_used_and_left_open():
    with httpx.Client() as client:
        with SCMRegistry(client=client) as registry:
            assert registry.client is client
            assert isinstance(registry.adapter("gitlab", "gitlab.com"), GitLabAdapter)
        assert not client.is_closed
        assert registry.client is client


def test_unsupported_scms_need_no_client():
    registry = SCMRegistry()
    with pytest.raises(SCMUnsupportedError):
        registry.adapter("bitbucket", "bitbucket.org")
    registry.close()
    assert registry._client is None


def test_the_server_starts_without_httpx():
    """Building the server's services and app loads neither httpx nor the SCM adapters."""
    code = (
        "import sys\n"
        "from runnerkit.server import serve  # noqa: F401\n"
        "from runnerkit.server.scm import SCMRegistry\n"
        "SCMRegistry().close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'httpx'"
        " or m.startswith('runnerkit.server.scm.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = eval(out.stdout)  # noqa: S307 - our own printed list
    assert not [m for m in loaded if m.startswith("httpx")]
    assert "runnerkit.server.scm.http" not in loaded
    assert "runnerkit.server.scm.github" not in loaded
