"""The benchmark scripts of ``make bench`` still run against the current server and schema.

Each runs once with the smallest settings (a smoke run: the figures are not looked at, only
that every workload completes and the summary is printed). ``bench_client.py`` is left out: it
installs the PyPI SDKs into throwaway virtualenvs first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

RUNS = {
    "bench.py": (
        ["--seconds", "0.2", "--rounds", "1", "--clients", "1"],
        ("durable    CreateRunner (durable)", "libs ", "CPU steal while measuring"),
    ),
    "bench_store.py": (["--rounds", "1", "--calls", "5"], ("page 100k / 1k runners",)),
    "bench_serving.py": (["--seconds", "0.2", "--rounds", "1"], ("grpcio h2c",)),
    "bench_testkit.py": (["--rounds", "1"], ("restore",)),
    "bench_workers.py": (
        ["--seconds", "0.3", "--rounds", "1"],
        ("ratio 2 workers / 1 worker",),
    ),
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("script", sorted(RUNS))
def test_bench_script_runs(script: str) -> None:
    args, figures = RUNS[script]
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for figure in figures:
        assert figure in result.stdout, result.stdout[-3000:]
