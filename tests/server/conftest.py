"""Fixtures of the server tests: ``api`` runs each test over all four transports."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.server.harness import KINDS, Api, open_api

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
