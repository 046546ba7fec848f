"""Fixtures for the client tests: a fake Runner API and the real reference server, over loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.client.fake_api import State, build_app, serve
from tests.support.server import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="module")
def fake_server() -> Iterator[tuple[str, State]]:
    state = State()
    with serve(build_app(state)) as url:
        yield url, state


@pytest.fixture
def fake(fake_server: tuple[str, State]) -> tuple[str, State]:
    url, state = fake_server
    state.calls.clear()
    state.failures.clear()
    state.requests.clear()
    state.runners.clear()
    state.delay = 0.0
    return url, state


@pytest.fixture(scope="module")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server")


@pytest.fixture(scope="module")
def real_server(server_dir: Path) -> Iterator[tuple[str, str]]:
    """The reference server (uvicorn, 127.0.0.1, free port): ``(base_url, admin_token)``."""
    with running_server(server_dir) as (url, token):
        yield url, token
