"""How the reference server is served: uvicorn with zttp, HTTP/1.1 and HTTP/2 on one port.

``uvicorn_config`` builds the one ``uvicorn.Config`` every way of serving uses (``serve``, its
worker processes, the tests): cleartext HTTP/1.1 and prior-knowledge HTTP/2 (h2c) on one port,
or TLS with ALPN ``h2``/``http/1.1`` when a certificate and key are given; Connect, gRPC and
gRPC-Web over either; the timeouts and connection cap of ``connections``. Why uvicorn + zttp
(and not hypercorn, granian or pyvoy) is measured in ``docs/serving.md``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runnerkit.server.connections import AutoProtocol, ServerConfig

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from uvicorn.config import LifespanType

    from runnerkit.server.asgi import ASGIApp

GRACEFUL_SHUTDOWN_S = 10


@dataclass(frozen=True)
class Limits:
    """Connection timeouts (seconds) and the cap on open connections.

    Attributes:
        idle: A connection with no request in flight (HTTP/2: no open stream) is closed.
        header: A request's headers must be complete this long after its first byte.
        body: A request's body must be complete this long after its headers (4 MiB, the
            largest body accepted, then needs about 140 KB/s).
        max_connections: Open connections at most; lowered to the file-descriptor limit less
            a reserve. Beyond it the oldest idle connection is closed to make room.
    """

    idle: int = 30
    header: float = 10.0
    body: float = 30.0
    max_connections: int = 1000


DEFAULT_LIMITS = Limits()


def check_tls(tls_cert: Path | str, tls_key: Path | str) -> None:
    """Load the certificate and key once, so that a bad pair fails before anything starts.

    Raises:
        ValueError: The files are not a PEM certificate and its private key.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(tls_cert), str(tls_key))
    except (ssl.SSLError, OSError) as exc:
        msg = f"--tls-cert/--tls-key: not a PEM certificate and its private key ({exc})"
        raise ValueError(msg) from None


def uvicorn_config(
    app: ASGIApp | str | Callable[[], ASGIApp],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    factory: bool = False,
    workers: int | None = None,
    tls_cert: Path | str | None = None,
    tls_key: Path | str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    lifespan: LifespanType = "on",
) -> ServerConfig:
    """The server configuration: HTTP/1.1 + HTTP/2 on one port, TLS optional, with limits.

    Args:
        app: The ASGI app, an import string ``"module:attr"``, or (with ``factory=True``) a
            picklable callable that builds the app in each worker process.
        host: Interface for uvicorn to bind (ignored when sockets are passed to ``run``).
        port: Port for uvicorn to bind (ignored when sockets are passed to ``run``).
        factory: Whether ``app`` names a factory.
        workers: Worker processes (recorded in the config; ``serve`` runs them); None for one.
        tls_cert: PEM certificate (chain); with ``tls_key`` the port speaks TLS only,
            offering ``h2`` and ``http/1.1`` by ALPN.
        tls_key: PEM private key of ``tls_cert``.
        limits: Timeouts and the connection cap.
        lifespan: uvicorn's lifespan mode (the app's start-up marks it ready).

    Returns:
        A ``uvicorn.Config``: ``uvicorn.Server(config).run(sockets=[sock])``.

    Raises:
        ValueError: Only one of ``tls_cert`` and ``tls_key`` is given.
    """
    if (tls_cert is None) != (tls_key is None):
        msg = "--tls-cert and --tls-key go together"
        raise ValueError(msg)
    return ServerConfig(
        app,
        host=host,
        port=port,
        factory=factory,
        workers=workers,
        http=AutoProtocol,
        ws="none",
        ssl_certfile=None if tls_cert is None else str(tls_cert),
        ssl_keyfile=None if tls_key is None else str(tls_key),
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan=lifespan,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        timeout_keep_alive=limits.idle,
        timeout_header=limits.header,
        timeout_body=limits.body,
        max_connections=limits.max_connections,
    )
