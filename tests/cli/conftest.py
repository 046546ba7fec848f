"""Fixtures for the resource-command tests: the reference server over loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.server import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="module")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-server")


@pytest.fixture(scope="module")
def real_server(server_dir: Path) -> Iterator[tuple[str, str]]:
    with running_server(server_dir) as (url, token):
        yield url, token
