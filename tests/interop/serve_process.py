"""``runnerkit serve`` as a child process on 127.0.0.1, a free port: for TLS and file limits."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

ADMIN_TOKEN = "rk_interop-admin-token-" + "0" * 20


@contextlib.contextmanager
def serve_process(
    directory: Path,
    *args: str,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[tuple[str, str]]:
    """Run ``runnerkit serve --port 0 ARGS``; yield ``(base_url, admin_token)``; stop it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RUNNERKIT_ADMIN_TOKEN": ADMIN_TOKEN}
    command = [sys.executable, "-m", "runnerkit.server", "--db", str(directory / "rk.db")]
    process = subprocess.Popen(
        [*command, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
        preexec_fn=preexec_fn,  # noqa: PLW1509 - only sets a resource limit
    )
    assert process.stdout is not None
    try:
        first = process.stdout.readline()
        assert first.startswith("runnerkit reference server on "), first
        yield first.split()[-1], ADMIN_TOKEN
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        process.stdout.close()
