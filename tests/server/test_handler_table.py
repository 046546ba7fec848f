"""The handler table (handlers/table.py) against the generated service protocols."""

from __future__ import annotations

import inspect

import pytest

from runnerkit.server.handlers.execution import Runs
from runnerkit.server.handlers.table import RUNNER_CONFIGURATION_SERVICE, RUNNER_SERVICE
from runnerkit_proto.gitpod.v1 import runner_configuration_connect, runner_connect, runner_pb2

SCM_CALLS = {
    "parse_context_url",
    "search_repositories",
    "list_scm_organizations",
    "check_repository_access",
}


def _protocol_methods(protocol: type) -> set[str]:
    return {
        name
        for name, member in vars(protocol).items()
        if not name.startswith("_") and inspect.iscoroutinefunction(member)
    }


@pytest.mark.parametrize(
    ("protocol", "table"),
    [
        (runner_connect.RunnerService, RUNNER_SERVICE),
        (runner_configuration_connect.RunnerConfigurationService, RUNNER_CONFIGURATION_SERVICE),
    ],
)
def test_one_row_per_rpc_and_the_right_kind(protocol: type, table: dict[str, object]) -> None:
    assert set(table) == _protocol_methods(protocol)
    assert len(table) == 16
    for name, operation in table.items():
        runs = operation.runs  # type: ignore[attr-defined]
        if name in SCM_CALLS:
            assert runs is Runs.SCM, name
        elif name.split("_")[0] in {"create", "update", "delete"}:
            assert runs is Runs.WRITE, name
        else:
            assert runs is Runs.READ, name


def test_parse_context_url_calls_the_scm_only_with_a_runner() -> None:
    unless = RUNNER_SERVICE["parse_context_url"].unless
    assert unless is not None
    assert unless(runner_pb2.ParseContextURLRequest(context_url="https://github.com/a/b"))
    assert not unless(
        runner_pb2.ParseContextURLRequest(
            context_url="https://github.com/a/b", runner_id="0190c5d6-0000-7000-8000-000000000001"
        )
    )
