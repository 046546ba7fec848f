"""The wheel ships the handwritten and the generated package, typed, and no top-level `gitpod`."""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def test_generated_code_and_stubs_are_shipped(wheel_names: set[str]) -> None:
    for module in ("agent", "gateway", "identity", "pagination", "runner", "runner_configuration"):
        assert f"runnerkit_proto/gitpod/v1/{module}_pb2.py" in wheel_names
        assert f"runnerkit_proto/gitpod/v1/{module}_pb2.pyi" in wheel_names
    assert "runnerkit_proto/gitpod/v1/runner_connect.py" in wheel_names
    assert "runnerkit_proto/gitpod/v1/runner_configuration_connect.py" in wheel_names
    assert "runnerkit_proto/py.typed" in wheel_names


def test_handwritten_package_is_typed(wheel_names: set[str]) -> None:
    assert "runnerkit/__init__.py" in wheel_names
    assert "runnerkit/py.typed" in wheel_names


def test_no_foreign_top_level_packages(wheel_names: set[str]) -> None:
    top_level = {name.split("/", 1)[0] for name in wheel_names}
    packages = {name for name in top_level if not name.endswith(".dist-info")}
    assert packages == {"runnerkit", "runnerkit_proto"}


def test_console_script_is_declared(wheel: Path, wheel_names: set[str]) -> None:
    (entry_points,) = [n for n in wheel_names if n.endswith(".dist-info/entry_points.txt")]
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(entry_points).decode()
    assert "runnerkit = runnerkit.cli:main" in text
