"""Run an ASGI app with uvicorn on a free loopback port in a background thread."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

from runnerkit.server.http_server import DEFAULT_LIMITS, uvicorn_config
from runnerkit.server.sockets import bind

if TYPE_CHECKING:
    import socket
    from collections.abc import Iterator

    from runnerkit.server.asgi import ASGIApp
    from runnerkit.server.http_server import Limits

START_TIMEOUT_S = 20.0
_POLL_S = 0.002


@contextlib.contextmanager
def serve_in_thread(
    app: ASGIApp, host: str = "127.0.0.1", *, limits: Limits = DEFAULT_LIMITS
) -> Iterator[str]:
    """Serve ``app`` on ``host``:<free port> until the block ends; yield its base URL.

    The server is configured as ``runnerkit serve`` configures it (``http_server``): HTTP/1.1
    and cleartext HTTP/2 on one port, so Connect, gRPC-Web and gRPC clients all reach it.

    Args:
        app: The ASGI application.
        host: A loopback address (``127.0.0.1`` or ``::1``).
        limits: Connection timeouts and cap.

    Yields:
        ``http://127.0.0.1:<port>``.

    Raises:
        RuntimeError: The server did not start within ``START_TIMEOUT_S``.
    """
    sock = bind(host, 0)
    config = uvicorn_config(app, limits=limits)
    config.timeout_graceful_shutdown = 2  # a test server stops quickly
    with running_in_thread(config, sock, "runnerkit-local-api"):
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{sock.getsockname()[1]}"


@contextlib.contextmanager
def running_in_thread(config: uvicorn.Config, sock: socket.socket, name: str) -> Iterator[None]:
    """Run a uvicorn server on the bound ``sock`` in a daemon thread for the block's duration.

    Args:
        config: The server's configuration.
        sock: A listening socket (closed at the end).
        name: The thread's name.

    Yields:
        Once the server accepts connections.

    Raises:
        RuntimeError: The server did not start within ``START_TIMEOUT_S``.
    """
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                msg = f"the server of thread {name} did not start"
                raise RuntimeError(msg)
            time.sleep(_POLL_S)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_S)
        sock.close()
