"""The pytest plugin as a user meets it: a small project run by pytest (pytester), then xdist."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

# Loaded before pytester's in-process runs, which unload the modules they import: the user
# project must see the same runnerkit.Client class as the session's server hands out.
import runnerkit.client
import runnerkit.testing.local  # noqa: F401

if TYPE_CHECKING:
    import pytest

CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def runner_api_options():
    return {"seed": {"runners": [{"name": "seeded", "provider": "RUNNER_PROVIDER_GCP"}]}}
"""

TESTS = """
import json, os, pathlib
import pytest
import runnerkit

def _names(client):
    return sorted(r.name for r in client.runners.list())

def _note(api, out):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(out, "a") as f:
        f.write(json.dumps([worker, api.base_url]) + "\\n")

@pytest.mark.parametrize("n", range(4))
def test_each_test_starts_from_the_seed(runner_api, runner_api_client, n, pytestconfig):
    _note(runner_api, pytestconfig.rootpath / "servers.jsonl")
    assert _names(runner_api_client) == ["seeded"]
    runner_api_client.runners.create(name=f"mine-{n}", provider="RUNNER_PROVIDER_GCP")
    runner_api.faults.add(rpc="*", code="internal", times=None)

def test_client_is_the_admin(runner_api, runner_api_client):
    assert isinstance(runner_api_client, runnerkit.Client)
    assert runner_api_client.base_url == runner_api.base_url
    runner_api_client.runners.list().items
    assert runner_api.requests[-1].subject_id
"""


def _servers(pytester: pytest.Pytester) -> list[tuple[str, str]]:
    lines = (pytester.path / "servers.jsonl").read_text().splitlines()
    return [tuple(json.loads(line)) for line in lines]


def test_plugin_fixtures_in_a_user_project(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_user=TESTS)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    assert len({url for _, url in _servers(pytester)}) == 1  # one server for the session


def test_plugin_with_xdist_runs_one_server_per_worker(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_user=TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=5)
    servers = _servers(pytester)
    by_worker: dict[str, set[str]] = {}
    for worker, url in servers:
        by_worker.setdefault(worker, set()).add(url)
    assert all(len(urls) == 1 for urls in by_worker.values())
    assert len({url for urls in by_worker.values() for url in urls}) == len(by_worker)
