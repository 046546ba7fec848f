"""The supervisor of ``serve --workers N``: N worker processes, each on a socket of its own.

uvicorn's ``Multiprocess`` gives every worker the same listening socket, and the worker that
wakes first takes every waiting connection (``sockets`` says why and what was measured). Here
worker ``i`` serves only socket ``i`` of ``sockets.bind_per_worker``, so the kernel's
``SO_REUSEPORT`` hash decides where a connection goes. Each worker is uvicorn's ``Process``
(spawned, pinged for health); the supervisor keeps the slots filled:

- a worker that dies, or stops answering the health ping, is replaced on the same socket.
  The parent keeps every socket open, so connections the kernel hashes to that socket while
  the replacement starts wait in its backlog: delayed by the start-up, never refused;
- a worker that fails during start-up (exit code ``STARTUP_FAILURE``: the app, store or TLS
  setup is broken and would fail again) stops the supervisor, and ``failed_to_start`` says so;
- SIGINT or SIGTERM: every worker is sent SIGTERM (each finishes its in-flight requests),
  then the supervisor returns once all have exited;
- SIGHUP: the workers are replaced one by one, each new one ready before the old one stops.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING

from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Process

if TYPE_CHECKING:
    import socket
    from types import FrameType

    import uvicorn

_log = logging.getLogger("runnerkit.server")
_POLL_S = 0.5
# SIGHUP does not exist on Windows.
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Workers:
    """Run one worker process per socket until SIGINT/SIGTERM (see the module docstring).

    Args:
        config: The uvicorn config every worker serves (an app factory: each builds its own).
        sockets: One listening socket per worker (``sockets.bind_per_worker``); the caller
            closes them after ``run`` returns.
    """

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        self._config = config
        self._sockets = sockets
        self._processes: list[Process] = []
        self._should_exit = threading.Event()
        self._signals: list[int] = []
        self.failed_to_start = False

    @property
    def pids(self) -> list[int | None]:
        """The worker processes' ids, one per socket."""
        return [process.pid for process in self._processes]

    def run(self) -> None:
        """Start the workers, keep them running, and stop them on SIGINT/SIGTERM."""
        previous = {sig: signal.signal(sig, self._queue_signal) for sig in _SIGNALS}
        try:
            self._processes = [self._start(sock) for sock in self._sockets]
            _log.info("%d worker processes: %s", len(self._processes), self.pids)
            while not self._should_exit.wait(_POLL_S):
                self._handle_signals()
                self._keep_alive()
            for process in self._processes:
                process.terminate()
            for process in self._processes:
                process.join()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _start(self, sock: socket.socket) -> Process:
        process = Process(self._config, [sock])
        process.start()
        return process

    def _queue_signal(self, sig: int, _frame: FrameType | None) -> None:
        # Only queued here: the loop acts on it (no lock is taken inside a signal handler).
        self._signals.append(sig)

    def _handle_signals(self) -> None:
        while self._signals:
            sig = self._signals.pop(0)
            if sig == getattr(signal, "SIGHUP", None):
                _log.info("SIGHUP: replacing the worker processes one by one")
                self._restart_all()
            else:
                _log.info("%s: stopping the worker processes", signal.Signals(sig).name)
                self._should_exit.set()

    def _keep_alive(self) -> None:
        timeout = self._config.timeout_worker_healthcheck
        for slot, process in enumerate(self._processes):
            if self._should_exit.is_set() or self._signals:
                return  # stopping (Ctrl-C also reaches the workers): a dead one is no failure
            if process.is_alive(timeout=timeout):
                continue
            process.kill()  # dead already, or hung: not answering the health ping
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                _log.error("worker process %s failed to start; stopping", process.pid)
                self.failed_to_start = True
                self._should_exit.set()
                return
            replacement = self._start(self._sockets[slot])
            self._processes[slot] = replacement
            _log.warning(
                "worker process %s died (exit %s); replaced by %s",
                process.pid,
                process.exitcode,
                replacement.pid,
            )

    def _restart_all(self) -> None:
        timeout = self._config.timeout_worker_healthcheck
        for slot, old in enumerate(self._processes):
            if self._should_exit.is_set():
                return
            new = self._start(self._sockets[slot])
            if not new.wait_until_ready(timeout, self._should_exit):
                new.kill()
                new.join()
                _log.error("new worker process %s not ready in time; restart stopped", new.pid)
                return
            old.terminate()
            old.join()
            self._processes[slot] = new
        _log.info("worker processes now: %s", self.pids)


__all__ = ["Workers"]
