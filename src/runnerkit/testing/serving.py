"""Run an ASGI app with uvicorn on a free loopback port in a background thread."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

from runnerkit.server.http_server import DEFAULT_LIMITS, uvicorn_config
from runnerkit.server.serve import bind

if TYPE_CHECKING:
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
    port = sock.getsockname()[1]
    config = uvicorn_config(app, limits=limits)
    config.timeout_graceful_shutdown = 2  # a test server stops quickly
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="runnerkit-local-api", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local Runner API server did not start")
            time.sleep(_POLL_S)
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_S)
        sock.close()
