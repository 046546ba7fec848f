"""Fixtures of the RunnerConfigurationService tests: ``capi`` runs each test on both codecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.server.config.harness import CODECS, ConfigApi, open_config_api

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(params=CODECS)
def capi(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConfigApi]:
    """A fresh server and clients on it, once per codec (binary, JSON)."""
    with open_config_api(tmp_path, json=request.param == "json") as api:
        yield api


@pytest.fixture
def capi_proto(tmp_path: Path) -> Iterator[ConfigApi]:
    """A fresh server called with the binary codec only (for the slower checks)."""
    with open_config_api(tmp_path, json=False) as api:
        yield api
