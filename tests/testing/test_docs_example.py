"""The complete pytest example of docs/testing.md runs and passes, as a user's project would."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

# Loaded before pytester's in-process runs, which unload the modules they import: the user
# project must see the same runnerkit.Client class as the session's server hands out.
import runnerkit.client
import runnerkit.testing.local  # noqa: F401

if TYPE_CHECKING:
    import pytest

DOC = Path(__file__).parents[2] / "docs" / "testing.md"


def _files() -> dict[str, str]:
    blocks = re.findall(r"```python\n(# (\S+\.py)\n.*?)```", DOC.read_text(), re.DOTALL)
    return {name: code for code, name in blocks}


def test_the_guide_example_passes(pytester: pytest.Pytester) -> None:
    files = _files()
    assert set(files) == {"conftest.py", "test_my_automation.py"}
    pytester.makeconftest(files["conftest.py"])
    pytester.makepyfile(test_my_automation=files["test_my_automation.py"])
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)


def test_the_guide_seed_loads(tmp_path: Path) -> None:
    from runnerkit.testing import LocalRunnerAPI  # noqa: PLC0415 - after collection

    [seed] = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.DOTALL)
    path = tmp_path / "seed.yaml"
    path.write_text(seed)
    with LocalRunnerAPI(seed=path, scm="fake") as api, api.client() as admin:
        [runner] = list(admin.runners.list())
        assert runner.runner_id == "11111111-2222-4333-8444-555555555555"
        assert api.seeded.subjects["alice"].token == "alice-token-0123456789"
