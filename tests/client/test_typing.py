"""mypy --strict accepts typical user code against the facade, with the types users expect."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

from runnerkit.client import _apigen

HERE = Path(__file__).parent


@pytest.mark.timeout(110)
def test_typed_usage_passes_mypy_strict():
    stdout, stderr, status = api.run(
        ["--strict", "--no-error-summary", "--follow-imports=silent", str(HERE / "typed_usage.py")]
    )
    assert status == 0, stdout + stderr


def test_mypy_catches_a_wrong_use(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from __future__ import annotations\n"
        "import runnerkit\n"
        "from runnerkit_proto.gitpod.v1 import runner_pb2\n"
        "def f(client: runnerkit.Client) -> runner_pb2.Runner:\n"
        "    return client.runners.retrieve(runner_id='x')\n"
    )
    stdout, _, status = api.run(["--strict", "--follow-imports=silent", str(bad)])
    assert status == 1
    assert "GetRunnerResponse" in stdout


def test_mypy_catches_a_misspelt_keyword_and_a_wrong_value_type(tmp_path):
    bad = tmp_path / "bad_kwargs.py"
    bad.write_text(
        "from __future__ import annotations\n"
        "import runnerkit\n"
        "def f(client: runnerkit.Client) -> None:\n"
        "    client.runners.create(nme='x')\n"
        "    client.runners.policies.list(runner_id=3)\n"
    )
    stdout, _, status = api.run(["--strict", "--follow-imports=silent", str(bad)])
    assert status == 1
    assert 'Unexpected keyword argument "nme"' in stdout
    assert '"runner_id" to "list"' in stdout


def test_generated_signatures_are_up_to_date():
    assert _apigen.OUTPUT.read_text(encoding="utf-8") == _apigen.render(), (
        "src/runnerkit/client/_api.py is stale: run python -m runnerkit.client._apigen"
    )


def test_mypy_rejects_a_wrong_enum_name(tmp_path):
    bad = tmp_path / "bad_enum.py"
    bad.write_text(
        "from __future__ import annotations\n"
        "import runnerkit\n"
        "def f(client: runnerkit.Client) -> None:\n"
        "    client.runners.create(name='x', provider='RUNNER_PROVIDER_AWS')\n"
        "    client.runners.create(name='x', provider='RUNNER_PROVIDER_AWS_EC2')\n"
        "    client.runners.list(filter={'providers': ['RUNNER_PROVIDER_AWS']})\n"
    )
    stdout, _, status = api.run(["--strict", "--follow-imports=silent", str(bad)])
    assert status == 1
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, stdout
    assert "bad_enum.py:4:" in errors[0]
    assert '"provider"' in errors[0]
    assert "RUNNER_PROVIDER_AWS_EC2" in errors[0]
