"""``runnerkit serve`` as a real subprocess on 127.0.0.1, port 0.

``start_serve(args, env=...)`` starts ``python -m runnerkit.server --port 0 ARGS`` and returns a
``Served`` once the start-up lines are printed (``base_url``, the printed ``lines``); it fails
the test with the process's stderr when the process exits first. ``Served.stop()`` sends
SIGTERM and returns the exit status; ``Served.kill()`` sends SIGKILL. Always stop or kill
(use ``serving(...)``, which does it on exit).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

_START_TIMEOUT_S = 60


@dataclass
class Served:
    """A running server process and what it printed."""

    process: subprocess.Popen[str]
    base_url: str
    lines: list[str] = field(default_factory=list)
    stderr_path: str = ""

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL (the process dies at once; nothing is cleaned up)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def stderr(self) -> str:
        """What the process wrote to stderr so far."""
        with open(self.stderr_path) as f:  # noqa: PTH123
            return f.read()

    def line(self, prefix: str) -> str | None:
        """The first printed line starting with ``prefix``."""
        return next((ln for ln in self.lines if ln.startswith(prefix)), None)


def serve_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment plus ``extra``, unbuffered."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", **(extra or {})}


def start_serve(args: Sequence[str], env: Mapping[str, str] | None = None) -> Served:
    """Start the server; return once it printed its ``store:`` line (its last start-up line)."""
    err = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept for the process's lifetime
        "w", prefix="runnerkit-serve-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "runnerkit.server", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=err,
        env=serve_env(env),
        text=True,
    )
    err.close()
    assert process.stdout is not None
    lines: list[str] = []
    while True:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=_START_TIMEOUT_S)
            with open(err.name) as f:  # noqa: PTH123
                raise AssertionError(f"server exited {process.returncode}: {f.read()[-3000:]}")
        lines.append(line.rstrip("\n"))
        if line.startswith("store: "):
            break
    base_url = lines[0].split()[-1]
    return Served(process, base_url, lines, err.name)


@contextlib.contextmanager
def serving(args: Sequence[str], env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """``start_serve`` that kills the process on exit if still running."""
    served = start_serve(args, env)
    try:
        yield served
    finally:
        served.kill()
        if served.process.stdout is not None:
            served.process.stdout.close()
        with contextlib.suppress(OSError):
            os.unlink(served.stderr_path)  # noqa: PTH108


def run_serve(
    args: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a server start expected to fail; its exit status and output."""
    return subprocess.run(
        [sys.executable, "-m", "runnerkit.server", *args],
        capture_output=True,
        env=serve_env(env),
        text=True,
        timeout=timeout,
        check=False,
    )
