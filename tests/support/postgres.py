"""A throwaway PostgreSQL server for the tests that run the store on PostgreSQL.

``postgres_server()`` (behind the session fixture ``postgres_url`` of tests/conftest.py)
yields a SQLAlchemy URL of a real PostgreSQL server:

- ``RUNNERKIT_TEST_POSTGRES_URL`` when set (an existing server; the tests create and drop
  their own databases on it);
- else a private cluster started from the PostgreSQL server binaries found on PATH or under
  ``/usr/lib/postgresql/*/bin`` (``initdb`` + ``postgres`` on 127.0.0.1, a free port, fsync
  off, in a temporary directory that is removed afterwards). As root, the cluster runs as
  the ``postgres`` system user, because PostgreSQL refuses to run as root.

Without either, the PostgreSQL tests are skipped with that reason — except under CI
(``CI=true``), where ``.ci/run`` installs PostgreSQL and a missing server is an error.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

ENV_URL = "RUNNERKIT_TEST_POSTGRES_URL"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server can be had on this machine."""


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``postgres``, if PostgreSQL is installed."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def private_cluster() -> Iterator[str]:
    """Start a private PostgreSQL cluster; yield its SQLAlchemy URL; stop and remove it."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailableError("PostgreSQL server binaries (initdb, postgres) not found")
    as_user: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="runnerkit-pg-"))
    if os.geteuid() == 0:
        try:
            pg = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresUnavailableError("running as root and no 'postgres' user") from exc
        os.chown(workdir, pg.pw_uid, pg.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = workdir / "data"
    port = _free_port()
    log = workdir / "server.log"
    # Durability settings off: the cluster lives only as long as the test session.
    server_options = [
        f"-p {port}",
        f"-k {workdir}",
        "-c listen_addresses=127.0.0.1",
        "-c fsync=off",
        "-c full_page_writes=off",
        "-c synchronous_commit=off",
    ]
    try:
        subprocess.run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "runnerkit",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *as_user,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                " ".join(server_options),
                "start",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://runnerkit@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                check=False,
                capture_output=True,
            )
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the URL of a PostgreSQL server: the configured one, or a private cluster."""
    configured = os.environ.get(ENV_URL)
    if configured:
        yield configured
        return
    with private_cluster() as url:
        yield url


def wait_until_ready(url: str, timeout: float = 30.0) -> None:
    """Block until ``url`` accepts connections (or raise after ``timeout`` seconds)."""
    import sqlalchemy  # noqa: PLC0415 - only the PostgreSQL tests need it

    deadline = time.monotonic() + timeout
    engine = sqlalchemy.create_engine(url)
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(sqlalchemy.text("select 1"))
                return
            except sqlalchemy.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        engine.dispose()
