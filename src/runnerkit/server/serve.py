"""Run the reference server: open the store, create the first admin, serve with uvicorn.

``run`` binds the socket itself (so ``port=0`` works and the real port can be printed), prints
how to connect, and hands the socket to uvicorn, which shuts down gracefully on SIGINT/SIGTERM.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import sys
from typing import TYPE_CHECKING

import uvicorn

from runnerkit.server.app import create_app
from runnerkit.server.bootstrap import bootstrap_admin, build_services, open_sqlite
from runnerkit.server.http_server import uvicorn_config
from runnerkit.server.settings import (
    ADMIN_TOKEN_ENV,
    DEFAULT_HOST,
    DEFAULT_PORT,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from runnerkit.server.scm import SCMConfig
    from runnerkit.server.service import Services
    from runnerkit.server.testapi import TestHooks


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def connection_help(base_url: str, admin_token: str | None, *, from_env: bool) -> list[str]:
    """The lines ``serve`` prints on start: URL, the admin token, a curl line.

    Args:
        base_url: ``http://host:port``.
        admin_token: The first admin's token when it was just generated, else None.
        from_env: Whether the first admin's token came from ``RUNNERKIT_ADMIN_TOKEN``.

    Returns:
        Lines of text, without newlines.
    """
    lines = [f"runnerkit reference server on {base_url}"]
    if admin_token is not None and not from_env:
        lines.append(f"admin token (shown only this once): {admin_token}")
        token_ref = admin_token
    elif from_env:
        lines.append(f"admin token: the value of {ADMIN_TOKEN_ENV}")
        token_ref = f"${ADMIN_TOKEN_ENV}"
    else:
        lines.append("existing store: use a token you created (`runnerkit admin create-token`)")
        token_ref = "$TOKEN"  # noqa: S105 - a shell placeholder
    url = f"{base_url}/gitpod.v1.RunnerService/ListRunners"
    lines.append(
        "try: curl -sS -X POST "
        f'-H "Authorization: Bearer {token_ref}" -H "Content-Type: application/json" '
        f"-d '{{}}' {shlex.quote(url)}"
    )
    return lines


def run(
    db_path: Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    echo: Callable[[str], None] | None = None,
    scm: SCMConfig | None = None,
    testing: Callable[[Services], tuple[Services, TestHooks | None]] | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM.

    Args:
        db_path: The SQLite database (created or migrated).
        host: Interface to listen on.
        port: TCP port; 0 picks a free one (the printed URL has the real one).
        echo: Where the connection help goes; stdout (flushed) by default.
        scm: How to reach SCM hosts (base URL overrides, see ``settings.scm_url_overrides``);
            None for the URLs derived from each host.
        testing: Seed, SCM fakes and test API (``runnerkit.testing.serve_setup``): called
            with the services; returns those to serve and the test hooks.
        tls_cert: PEM certificate: serve TLS (ALPN h2, http/1.1) instead of cleartext.
        tls_key: PEM private key of ``tls_cert``.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    store, master_key = open_sqlite(db_path)
    closers = [store.close]
    try:
        env_token = os.environ.get(ADMIN_TOKEN_ENV) or None
        admin_token = bootstrap_admin(store, env_token)
        services, hooks = build_services(store, master_key, scm), None
        if testing is not None:
            services, hooks = testing(services)
        closers.append(services.scm.close)
        app = create_app(services, test_hooks=hooks)
        sock = bind(host, port)
        bound_port = sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        scheme = "https" if tls_cert is not None else "http"
        base_url = f"{scheme}://{shown_host}:{bound_port}"
        out = echo or (lambda line: print(line, flush=True))
        for line in connection_help(
            base_url, admin_token, from_env=admin_token is not None and env_token is not None
        ):
            out(line)
        if hooks is not None and hooks.http_routes:
            out(f"test API (org admins only, never in production): {base_url}/_runnerkit/")
        config = uvicorn_config(app, tls_cert=tls_cert, tls_key=tls_key)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        for close in reversed(closers):
            close()
