"""Generated messages name their real module, so they pickle and tracebacks point at real code."""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path
from typing import Any

import pytest

from runnerkit_proto.gitpod.v1 import (
    agent_pb2,
    gateway_pb2,
    identity_pb2,
    pagination_pb2,
    runner_configuration_pb2,
    runner_pb2,
)

ROOT = Path(__file__).resolve().parent.parent.parent
MODULES = [
    agent_pb2,
    gateway_pb2,
    identity_pb2,
    pagination_pb2,
    runner_configuration_pb2,
    runner_pb2,
]


def _rewrite_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "rewrite", ROOT / "scripts/rewrite_gen_imports.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_message_class_reports_its_runnerkit_proto_module(module):
    for name, value in vars(module).items():
        if isinstance(value, type) and hasattr(value, "DESCRIPTOR") and not name.startswith("_"):
            assert value.__module__ == module.__name__, name


def test_a_response_pickles_and_unpickles_equal():
    response = runner_pb2.GetRunnerResponse(
        runner=runner_pb2.Runner(runner_id="r1", name="n", spec=runner_pb2.RunnerSpec())
    )
    data = pickle.dumps(response)
    assert b"runnerkit_proto.gitpod.v1.runner_pb2" in data
    assert b"\x8c\x13gitpod.v1.runner_pb2" not in data
    assert pickle.loads(data) == response  # noqa: S301 - our own bytes
    nested = runner_pb2.UpdateRunnerRequest.Spec(desired_phase=runner_pb2.RUNNER_PHASE_ACTIVE)
    assert pickle.loads(pickle.dumps(nested)) == nested  # noqa: S301


def test_the_rewrite_moves_imports_and_the_builder_module_name():
    rewrite = _rewrite_script().rewrite
    source = (
        "from gitpod.v1 import agent_pb2 as gitpod_dot_v1_dot_agent__pb2\n"
        "_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'gitpod.v1.runner_pb2', _globals)\n"
    )
    assert rewrite(source) == (
        "from runnerkit_proto.gitpod.v1 import agent_pb2 as gitpod_dot_v1_dot_agent__pb2\n"
        "_builder.BuildTopDescriptorsAndMessages("
        "DESCRIPTOR, 'runnerkit_proto.gitpod.v1.runner_pb2', _globals)\n"
    )
    assert rewrite(rewrite(source)) == rewrite(source)
