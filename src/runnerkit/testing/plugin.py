"""The pytest plugin (entry point ``pytest11``): fixtures ``runner_api`` and ``runner_api_client``.

One ``LocalRunnerAPI`` per test session — per worker under pytest-xdist — started on first use;
before each test that uses it, it is reset (``reset()``) and its faults cleared. Override the
session-scoped ``runner_api_options`` fixture to pass options, e.g. a seed or the SCM fakes::

    @pytest.fixture(scope="session")
    def runner_api_options():
        return {"seed": "tests/seed.yaml", "scm": "fake"}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from runnerkit.client import Client
    from runnerkit.testing.local import LocalRunnerAPI


@pytest.fixture(scope="session")
def runner_api_options() -> dict[str, Any]:
    """Keyword arguments for the session's ``LocalRunnerAPI`` (override to seed it)."""
    return {}


@pytest.fixture(scope="session")
def runner_api_session(runner_api_options: dict[str, Any]) -> Iterator[LocalRunnerAPI]:
    """The session's server, as it is (not reset): prefer ``runner_api``."""
    from runnerkit.testing.local import LocalRunnerAPI  # noqa: PLC0415 - loaded on first use

    with LocalRunnerAPI(**runner_api_options) as api:
        yield api


@pytest.fixture
def runner_api(runner_api_session: LocalRunnerAPI) -> LocalRunnerAPI:
    """The session's ``LocalRunnerAPI``, reset and without faults."""
    runner_api_session.reset()
    runner_api_session.faults.clear()
    return runner_api_session


@pytest.fixture
def runner_api_client(runner_api: LocalRunnerAPI) -> Iterator[Client]:
    """A ``runnerkit.Client`` for the admin of ``runner_api``."""
    with runner_api.client() as client:
        yield client
