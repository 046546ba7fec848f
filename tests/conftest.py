"""Shared pytest configuration: a clean environment, and a real PostgreSQL server on demand."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from tests.support.postgres import PostgresUnavailableError, postgres_server, wait_until_ready

if TYPE_CHECKING:
    from collections.abc import Iterator

_OWN_PREFIXES = ("GITPOD_", "RUNNERKIT_")
# Read before clean_environ strips RUNNERKIT_* from each test's environment.
_POSTGRES_URL = os.environ.get("RUNNERKIT_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop GITPOD_*/RUNNERKIT_* variables so a developer's shell cannot leak into tests."""
    for name in list(os.environ):
        if name.startswith(_OWN_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a real PostgreSQL server (see tests/support/postgres.py)."""
    if _POSTGRES_URL:
        wait_until_ready(_POSTGRES_URL)
        yield _POSTGRES_URL
        return
    try:
        with postgres_server() as url:
            wait_until_ready(url)
            yield url
    except PostgresUnavailableError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(
            f"no PostgreSQL server: {exc} (install postgresql, or set RUNNERKIT_TEST_POSTGRES_URL)"
        )
