"""The ``--workers`` supervisor on its own: a worker that fails during start-up stops it."""

from __future__ import annotations

import sys
import time

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from runnerkit.server.sockets import bind_per_worker
from runnerkit.server.workers import Workers


def failing_factory() -> None:
    """An app factory whose start-up fails, as ``WorkerApp`` does when its store cannot open."""
    sys.exit(STARTUP_FAILURE)


def test_a_worker_failing_at_start_up_stops_the_supervisor():
    sockets = bind_per_worker("127.0.0.1", 0, 2)
    try:
        config = uvicorn.Config(
            f"{__name__}:failing_factory", factory=True, log_config=None, lifespan="off"
        )
        supervisor = Workers(config, sockets)
        started = time.monotonic()
        supervisor.run()
        assert supervisor.failed_to_start
        assert time.monotonic() - started < 30  # stopped, not restarted in a loop
        assert len(supervisor.pids) == 2
    finally:
        for sock in sockets:
            sock.close()
