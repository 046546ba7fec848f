"""Test helpers for the reference server: an app on a fresh store, a live loopback server.

All helpers put the SQLite database at ``<directory>/runnerkit.db`` (``db_path(directory)``)
and its master key file beside it; pass a fresh directory (``tmp_path``) per server.

``app_on_fresh_store(directory, *, scm=None) -> ContextManager[tuple[ASGIApp, str]]``
    Builds the ASGI app on a new store and yields ``(app, admin_token)``; the admin is an org
    admin. ``scm`` (an ``SCMConfig``) points SCM hosts at stubs; None for the defaults. Use it in process, e.g. with ``pyqwest.testing.ASGITransport(app)`` and an async
    generated client (``RunnerServiceClient(base_url, http_client=pyqwest.Client(transport))``).

``running_server(directory, *, scm=None, limits=DEFAULT_LIMITS) -> ContextManager[tuple[str, str]]``
    Runs the real server (uvicorn + zttp as ``serve`` configures it: HTTP/1.1 and h2c on one
    port) on 127.0.0.1, a free port, in a background thread
    (``runnerkit.testing.serving.serve_in_thread``, which ``LocalRunnerAPI`` uses too), and
    yields ``(base_url, admin_token)``, e.g. ``("http://127.0.0.1:41234", "rk_...")``.
    ``limits`` (``http_server.Limits``) sets the connection timeouts and cap.

``create_user(directory, *, name="user", groups=(), org_admin=False, runner_creator=False,
service_account=False) -> tuple[str, str]``
    Creates a user (or service account) with one bearer token and the given group
    memberships (group ids are UUID strings) in that directory's store; returns
    ``(subject_id, token)``. Works while the server runs.

``new_group_id() -> str``
    A fresh group id.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING

from runnerkit.server.app import create_app
from runnerkit.server.bootstrap import (
    bootstrap_admin,
    build_services,
    create_subject,
    open_sqlite,
)
from runnerkit.server.http_server import DEFAULT_LIMITS
from runnerkit.testing.serving import serve_in_thread

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from runnerkit.server.asgi import ASGIApp
    from runnerkit.server.http_server import Limits
    from runnerkit.server.scm import SCMConfig

DB_NAME = "runnerkit.db"


def db_path(directory: Path) -> Path:
    """The SQLite file the helpers use in ``directory``."""
    return directory / DB_NAME


def new_group_id() -> str:
    """A fresh group id (groups are plain UUIDs)."""
    return str(uuid.uuid4())


@contextlib.contextmanager
def app_on_fresh_store(
    directory: Path, *, scm: SCMConfig | None = None
) -> Iterator[tuple[ASGIApp, str]]:
    """Build the app on a fresh store in ``directory``; yield ``(app, admin_token)``."""
    store, master_key = open_sqlite(db_path(directory), environ={})
    try:
        admin_token = bootstrap_admin(store)
        if admin_token is None:
            msg = f"{db_path(directory)} is not a fresh store"
            raise RuntimeError(msg)
        services = build_services(store, master_key, scm)
        try:
            yield create_app(services), admin_token
        finally:
            services.scm.close()
    finally:
        store.close()


@contextlib.contextmanager
def running_server(
    directory: Path, *, scm: SCMConfig | None = None, limits: Limits = DEFAULT_LIMITS
) -> Iterator[tuple[str, str]]:
    """Run the server on 127.0.0.1:<free port> in a thread; yield ``(base_url, admin_token)``."""
    with (
        app_on_fresh_store(directory, scm=scm) as (app, admin_token),
        serve_in_thread(app, limits=limits) as base_url,
    ):
        yield base_url, admin_token


def create_user(
    directory: Path,
    *,
    name: str = "user",
    groups: Sequence[str] = (),
    org_admin: bool = False,
    runner_creator: bool = False,
    service_account: bool = False,
) -> tuple[str, str]:
    """Create a subject with a bearer token in ``directory``'s store; return ``(id, token)``."""
    store, _ = open_sqlite(db_path(directory), environ={})
    try:
        return create_subject(
            store,
            name=name,
            principal="service-account" if service_account else "user",
            org_admin=org_admin,
            runner_creator=runner_creator,
            group_ids=groups,
        )
    finally:
        store.close()
