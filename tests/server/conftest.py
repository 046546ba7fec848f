"""Fixtures of the server tests: ``api`` runs each test over all four transports."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from tests.server.harness import KINDS, Api, open_api
from tests.support.postgres import PostgresUnavailableError, postgres_server, wait_until_ready

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(params=KINDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A fresh server and a client on it, once per transport and codec."""
    with open_api(request.param, tmp_path) as api:
        yield api


@pytest.fixture
def inproc(tmp_path: Path) -> Iterator[Api]:
    """A fresh server called in process with the binary codec (for the slower suites)."""
    with open_api("inproc-proto", tmp_path) as api:
        yield api


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """A PostgreSQL server for the session (skips outside CI when none can be had)."""
    try:
        with postgres_server() as url:
            wait_until_ready(url)
            yield url
    except PostgresUnavailableError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL unavailable: {exc}")
