"""Run the reference server: bind, open the store, create the first admin, serve with uvicorn.

``run`` binds first (so a port in use fails before anything is written, and ``port=0``
works: the printed URL has the real port), then opens the store under its start-up lock
(``bootstrap.open_database``), prints how to connect, and serves:

- one worker: in this process, on the store already open;
- ``workers`` > 1: a socket per worker on the one port (``sockets.bind_per_worker``) and the
  supervisor of ``workers``; each worker process builds its own app and store
  (``WorkerApp``) and closes them at shutdown.

SIGINT/SIGTERM: uvicorn stops accepting, finishes in-flight requests, then ``run`` closes the
SCM client and the store (a SQLite WAL is checkpointed into the ``.db`` file) and returns, so
the process exits with status 0.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from runnerkit.server.access_log import StreamAccessLog
from runnerkit.server.app import create_app
from runnerkit.server.bootstrap import StartupError, build_services, open_database
from runnerkit.server.http_server import uvicorn_config as http_server_config
from runnerkit.server.settings import ADMIN_TOKEN_ENV, DEFAULT_DB_WAIT_S, DEFAULT_HOST, DEFAULT_PORT
from runnerkit.server.sockets import bind, bind_per_worker
from runnerkit.server.storage import SQLStore
from runnerkit.server.storage.engine import checkpoint, create_engine
from runnerkit.server.workers import Workers

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import FrameType

    from runnerkit.server.access_log import AccessLog
    from runnerkit.server.asgi import ASGIApp, Message, Receive, Scope, Send
    from runnerkit.server.scm import SCMConfig
    from runnerkit.server.service import Services
    from runnerkit.server.settings import Database
    from runnerkit.server.testapi import TestHooks

_WORKER_HEALTHCHECK_S = 30
_log = logging.getLogger("runnerkit.server")


class _Stopped(Exception):  # noqa: N818 - a signal, not an error
    """SIGTERM arrived outside uvicorn's own handling (during start-up, or re-raised after)."""


def connection_help(
    base_url: str, admin_token: str | None, *, from_env: bool, note: str | None = None
) -> list[str]:
    """The lines ``serve`` prints on start: URL, the admin token, a curl line, ``export`` lines.

    Args:
        base_url: ``http://host:port``.
        admin_token: The first admin's token when it was just created, else None.
        from_env: Whether ``RUNNERKIT_ADMIN_TOKEN`` is an admin token of the store.
        note: Why ``RUNNERKIT_ADMIN_TOKEN``, set on an existing store, was not used.

    Returns:
        Lines of text, without newlines.
    """
    lines = [f"runnerkit reference server on {base_url}"]
    api_key: str | None = None
    if admin_token is not None and not from_env:
        lines.append(f"admin token (shown only this once): {admin_token}")
        token_ref = api_key = admin_token
    elif from_env:
        lines.append(f"admin token: the value of {ADMIN_TOKEN_ENV}")
        token_ref = f"${ADMIN_TOKEN_ENV}"
        api_key = f'"${ADMIN_TOKEN_ENV}"'
    elif note is not None:
        lines.append(note)
        token_ref = "$TOKEN"  # noqa: S105 - a shell placeholder
    else:
        lines.append(
            "existing store: use a token you created (`runnerkit admin create-token --name NAME`)"
        )
        token_ref = "$TOKEN"  # noqa: S105 - a shell placeholder
    url = f"{base_url}/gitpod.v1.RunnerService/ListRunners"
    lines.append(
        "try: curl -sS -X POST "
        f'-H "Authorization: Bearer {token_ref}" -H "Content-Type: application/json" '
        f"-d '{{}}' {shlex.quote(url)}"
    )
    lines.append(f"export GITPOD_BASE_URL={base_url}")
    if api_key is not None:
        lines.append(f"export GITPOD_API_KEY={api_key}")
    return lines


class _ClosingApp:
    """``app`` that runs ``closers`` when the ASGI lifespan shuts down (a worker's store)."""

    def __init__(self, app: ASGIApp, closers: list[Callable[[], None]]) -> None:
        self._app = app
        self._closers = closers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self._app(scope, receive, send)
            return

        async def send_after_close(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                _close_all(self._closers)
            await send(message)

        await self._app(scope, receive, send_after_close)


def _close_all(closers: list[Callable[[], None]]) -> None:
    while closers:
        close = closers.pop()
        try:
            close()
        except Exception:  # noqa: BLE001 - logged; the other closers still run
            _log.exception("error while shutting down")


def _store_closer(store: SQLStore) -> Callable[[], None]:
    """Close ``store`` after checkpointing a SQLite WAL into the database file."""

    def close_store() -> None:
        try:
            checkpoint(store.engine)
        finally:
            store.close()

    return close_store


@dataclass(frozen=True)
class WorkerApp:
    """The app factory a worker process calls (uvicorn ``factory=True``; pickled to the worker).

    Attributes:
        db_url: The store's SQLAlchemy URL (already migrated by the parent).
        master_key: The verified master key's bytes.
        scm: SCM settings.
    """

    db_url: str = field(repr=False)
    master_key: bytes = field(repr=False)
    scm: SCMConfig | None = field(default=None)

    def __call__(self) -> ASGIApp:
        """Open this worker's store and build its app (closed at lifespan shutdown)."""
        from runnerkit.server.crypto import MasterKey  # noqa: PLC0415

        access_log = _configure_logging()
        try:
            store = SQLStore(create_engine(self.db_url))
            services = build_services(store, MasterKey(self.master_key), self.scm)
        except Exception as exc:  # noqa: BLE001 - one line, then the supervisor stops
            _log.error("worker %d cannot start: %s", os.getpid(), exc)
            sys.exit(STARTUP_FAILURE)
        app = create_app(services, access_log=access_log)
        return _ClosingApp(app, [_store_closer(store), services.scm.close])


def uvicorn_config(
    app: ASGIApp | WorkerApp,
    *,
    workers: int = 1,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> uvicorn.Config:
    """The uvicorn settings of ``serve`` (``http_server.uvicorn_config`` plus the workers').

    Args:
        app: The app, or the factory each worker process calls.
        workers: Worker processes.
        tls_cert: PEM certificate: serve TLS (ALPN h2, http/1.1) instead of cleartext.
        tls_key: PEM private key of ``tls_cert``.

    Returns:
        The config.
    """
    config = http_server_config(
        app,
        factory=isinstance(app, WorkerApp),
        workers=workers,
        tls_cert=tls_cert,
        tls_key=tls_key,
    )
    # A worker that has not answered the supervisor's ping for this long is replaced;
    # importing the server takes seconds on a busy machine.
    config.timeout_worker_healthcheck = _WORKER_HEALTHCHECK_S
    return config


def _configure_logging() -> AccessLog | None:
    """Log INFO to stderr unless logging is set up; then the access log goes there directly."""
    access_log = None
    if not logging.getLogger().handlers:
        access_log = StreamAccessLog(sys.stderr)  # the same lines as logging's, ~4x cheaper
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step
    return access_log


def _raise_stopped(_sig: int, _frame: FrameType | None) -> None:
    raise _Stopped


@dataclass(frozen=True)
class ServeOptions:
    """How to serve (see ``runnerkit serve --help``)."""

    db: Database
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 1
    master_key_file: Path | None = None
    db_wait_s: float = DEFAULT_DB_WAIT_S
    admin_token: str | None = None
    scm: SCMConfig | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Seed, SCM fakes and test API (``runnerkit.testing.serve_setup``): called with the
    # services; returns those to serve and the test hooks. One worker only.
    testing: Callable[[Services], tuple[Services, TestHooks | None]] | None = None


def run(options: ServeOptions, *, echo: Callable[[str], None] | None = None) -> None:
    """Serve until SIGINT/SIGTERM, then close everything and return.

    Args:
        options: Where and how to serve.
        echo: Where the connection help goes; stdout (flushed) by default.

    Raises:
        StartupError: The server cannot start (port in use, database unreachable, master key
            missing or wrong, malformed admin token); the message is one line.
    """
    access_log = _configure_logging()
    previous = signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        _run(options, echo or (lambda line: print(line, flush=True)), access_log)
    except (_Stopped, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(
    options: ServeOptions, out: Callable[[str], None], access_log: AccessLog | None = None
) -> None:
    try:
        if options.workers > 1:
            sockets = bind_per_worker(options.host, options.port, options.workers)
        else:
            sockets = [bind(options.host, options.port)]
    except OSError as exc:
        msg = f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}"
        raise StartupError(msg) from None
    closers: list[Callable[[], None]] = [sock.close for sock in sockets]
    try:
        opened = open_database(
            options.db,
            key_file=options.master_key_file,
            wait_s=options.db_wait_s,
            first_admin=True,
            admin_token=options.admin_token,
        )
        assert opened.master_key is not None  # noqa: S101 - loaded for serve
        store = opened.store
        closers.append(_store_closer(store))
        shown_host = f"[{options.host}]" if ":" in options.host else options.host
        scheme = "https" if options.tls_cert is not None else "http"
        base_url = f"{scheme}://{shown_host}:{sockets[0].getsockname()[1]}"
        for line in connection_help(
            base_url,
            opened.admin_token,
            from_env=opened.admin_from_env,
            note=opened.admin_note,
        ):
            out(line)
        workers = f"{options.workers} workers" if options.workers > 1 else "1 worker"
        out(f"store: {options.db.display} ({workers})")
        if options.workers > 1:
            closers.pop()()  # close the store: each worker opens its own
            factory = WorkerApp(options.db.url, opened.master_key.key, options.scm)
            config = uvicorn_config(
                factory,
                workers=options.workers,
                tls_cert=options.tls_cert,
                tls_key=options.tls_key,
            )
            supervisor = Workers(config, sockets)
            supervisor.run()
            if supervisor.failed_to_start:
                msg = "a worker process failed to start (its error is logged above)"
                raise StartupError(msg)
            return
        services, hooks = build_services(store, opened.master_key, options.scm), None
        if options.testing is not None:
            services, hooks = options.testing(services)
        closers.append(services.scm.close)
        if hooks is not None and hooks.http_routes:
            out(f"test API (org admins only, never in production): {base_url}/_runnerkit/")
        app = create_app(services, test_hooks=hooks, access_log=access_log)
        config = uvicorn_config(app, tls_cert=options.tls_cert, tls_key=options.tls_key)
        server = uvicorn.Server(config)
        server.run(sockets=sockets)
    finally:
        _close_all(closers)


__all__ = [
    "ServeOptions",
    "StartupError",
    "WorkerApp",
    "connection_help",
    "run",
    "uvicorn_config",
]
