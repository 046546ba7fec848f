"""Fixtures of the SCM RPC tests: the GitHub and GitLab stubs and a server pointed at them.

``scm`` runs a fresh server (in process, generated clients) per test and codec whose SCM
configuration sends github.com to the GitHub stub and gitlab.com and git.example.com (a
self-managed GitLab) to the GitLab stub, with a short timeout. After each test no log line
may carry a stub token or secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.server.config.harness import CODECS
from tests.server.scm.stubs import run_stub
from tests.server.scm_rpcs.harness import SECRETS, ScmWorld, open_world

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.server.scm.stubs import Stub


@pytest.fixture(scope="package")
def github_server() -> Iterator[Stub]:
    """The GitHub stub, shared by the package's tests (reset per test)."""
    with run_stub("github") as stub:
        yield stub


@pytest.fixture(scope="package")
def gitlab_server() -> Iterator[Stub]:
    """The GitLab stub, shared by the package's tests (reset per test)."""
    with run_stub("gitlab") as stub:
        yield stub


@pytest.fixture(params=CODECS)
def scm(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    github_server: Stub,
    gitlab_server: Stub,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[ScmWorld]:
    """A fresh server on the stubs and a runner, once per codec (binary, JSON)."""
    github_server.reset()
    gitlab_server.reset()
    caplog.set_level("DEBUG")
    with open_world(tmp_path, github_server, gitlab_server, json=request.param == "json") as world:
        yield world
    for record in caplog.records:
        line = record.getMessage() + (record.exc_text or "")
        assert not any(secret in line for secret in SECRETS), line
