"""Engines and schema: ``create_engine``, ``migrate``, the start-up lock, the reachability wait.

``migrate`` brings a database to the newest schema revision (:data:`HEAD_REVISION`) by the
cheapest way that yields the same schema: a database already there is left alone; an empty
one gets the tables of ``tables.py``/``config_tables.py`` (which describe that revision, as a
test checks against the migrations) and is stamped with the revision, as Alembic's "building
an up to date database from scratch" recipe does; any other runs the Alembic migrations. Only
the last imports Alembic (~7 MiB of a server's memory).

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is on disk before the call returns,
so acknowledged writes survive a crash of the process), foreign keys on, and write
transactions opened with ``BEGIN IMMEDIATE`` so that concurrent writers queue on the database
lock (``busy_timeout``) instead of failing on upgrade. The file is created with mode 0600
before SQLite opens it; SQLite gives its ``-wal`` and ``-shm`` side files the same mode.
PostgreSQL needs nothing special: each method is one READ COMMITTED transaction and unique
indexes settle races; its pool holds as many connections as a worker runs requests at once.

Several processes may start on one database at the same moment (``--workers``, replicas):
``startup_lock`` serialises what they do first (migrations, the master-key check, the first
admin) — a PostgreSQL advisory lock, or on SQLite an exclusive ``flock`` of the database's
directory (not of the file itself: closing any descriptor of a file drops the process's POSIX
locks on it, which SQLite relies on).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from importlib import resources
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runnerkit.server.storage.connections import WRITE_OPTION

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_BUSY_TIMEOUT_S = 30.0
# Threads a worker runs requests on (asyncio.to_thread's default executor), plus health checks.
WORKER_THREADS = min(32, (os.cpu_count() or 1) + 4)
_POOL_OVERFLOW = 4
_CONNECT_TIMEOUT_S = 5
# pg_advisory_lock key of the start-up work ("rnkt").
_STARTUP_LOCK_KEY = 0x726E6B74
_FILE_MODE = 0o600
# The newest revision in migrations/versions (a test checks it against alembic's head).
HEAD_REVISION = "0004_policy_order"
# Alembic's version table, as its ``MigrationContext`` creates it (a test compares the two).
_VERSION_TABLE = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


class DatabaseUnreachableError(RuntimeError):
    """The database did not accept a connection within the wait."""


def _configure_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:  # noqa: ANN401 - DB-API objects
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _create_private_file(path: str) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite then opens it)."""
    if not path or path == ":memory:":
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE))


def create_engine(url: str, *, pool_size: int = WORKER_THREADS) -> sa.Engine:
    """An engine for ``url`` configured for the store (see the module docstring).

    Args:
        url: A SQLAlchemy URL, ``sqlite:///path`` or ``postgresql+psycopg://...``.
        pool_size: PostgreSQL connections kept open (a few more may be opened under load).

    Returns:
        The engine.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _create_private_file(parsed.database or "")
        engine = sa.create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT_S}
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=_POOL_OVERFLOW,
        connect_args={"connect_timeout": _CONNECT_TIMEOUT_S},
    )


def migrate(engine: sa.Engine) -> None:
    """Bring the database schema to :data:`HEAD_REVISION` (see the module docstring).

    Args:
        engine: Engine of the database to migrate.
    """
    revision, empty = _schema_state(engine)
    if revision == HEAD_REVISION:
        return
    if empty:
        create_schema(engine)
    else:
        run_migrations(engine)


def create_schema(engine: sa.Engine) -> None:
    """Create the newest schema in an empty database and stamp it with its revision.

    One transaction: the tables of ``tables.py`` and ``config_tables.py``, then Alembic's
    version table holding :data:`HEAD_REVISION`; later revisions migrate it as usual.

    Args:
        engine: Engine of a database without tables.
    """
    from runnerkit.server.storage import config_tables  # noqa: F401, PLC0415 - its tables
    from runnerkit.server.storage.tables import metadata  # noqa: PLC0415

    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        metadata.create_all(conn, checkfirst=False)
        _VERSION_TABLE.create(conn)
        conn.execute(_VERSION_TABLE.insert(), {"version_num": HEAD_REVISION})
        conn.commit()


def run_migrations(engine: sa.Engine) -> None:
    """Run Alembic's migrations from the database's revision (none: empty) to the head.

    Args:
        engine: Engine of the database to migrate.
    """
    from alembic import command  # noqa: PLC0415 - only when a migration is due (memory)
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    location = resources.files("runnerkit.server.storage") / "migrations"
    config.set_main_option("script_location", str(location))
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


def _schema_state(engine: sa.Engine) -> tuple[str | None, bool]:
    """The database's schema revision (as ``current_revision``) and whether it has no tables."""
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        revision = _read_revision(conn) if _VERSION_TABLE.name in names else None
        conn.rollback()
    return revision, not names


def current_revision(engine: sa.Engine) -> str | None:
    """The schema revision stored in the database; None when it has none (or several).

    Args:
        engine: The engine.

    Returns:
        The single ``alembic_version`` row's revision, or None.
    """
    with engine.connect() as conn:
        has_version = sa.inspect(conn).has_table(_VERSION_TABLE.name)
        revision = _read_revision(conn) if has_version else None
        conn.rollback()
    return revision


def _read_revision(conn: sa.Connection) -> str | None:
    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return str(rows[0][0]) if len(rows) == 1 else None


def wait_until_reachable(engine: sa.Engine, timeout_s: float) -> None:
    """Block until the database answers ``SELECT 1``, retrying for up to ``timeout_s``.

    Args:
        engine: The engine.
        timeout_s: How long to keep trying.

    Raises:
        DatabaseUnreachableError: Still no answer after ``timeout_s`` (the last error's first
            line, without the URL's password, is the message); at once when the server
            refuses the connection (no such database, authentication failed).
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.1
    while True:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
                conn.rollback()
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0][:300]
            if _refused(str(exc.orig or exc)):
                raise DatabaseUnreachableError(f"cannot connect: {reason}") from None
            if time.monotonic() + delay > deadline:
                msg = f"database unreachable after {timeout_s:g}s: {reason}"
                raise DatabaseUnreachableError(msg) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        else:
            return


_TRANSIENT = ("starting up", "shutting down", "recovery mode", "too many clients")


def _refused(message: str) -> bool:
    """Whether the server answered with a final refusal (no such database, bad password).

    PostgreSQL reports those as ``FATAL:`` during connection set-up; a server that is starting
    or shutting down, or no answer at all, is worth retrying.
    """
    return "FATAL:" in message and not any(t in message for t in _TRANSIENT)


@contextlib.contextmanager
def startup_lock(engine: sa.Engine, sqlite_path: Path | None) -> Iterator[None]:
    """Hold the database's start-up lock (see the module docstring) for the ``with`` body.

    Args:
        engine: The engine (PostgreSQL: the lock is taken on one of its connections).
        sqlite_path: The SQLite file, or None on PostgreSQL.

    Yields:
        Nothing; other processes starting on the same database wait meanwhile.
    """
    if sqlite_path is not None:
        fd = os.open(sqlite_path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the flock
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _STARTUP_LOCK_KEY})
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _STARTUP_LOCK_KEY})


def checkpoint(engine: sa.Engine) -> None:
    """On SQLite, copy the WAL into the database file and empty it (no-op on PostgreSQL).

    After this, the ``.db`` file alone holds every committed write.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.rollback()


__all__ = [
    "WORKER_THREADS",
    "DatabaseUnreachableError",
    "checkpoint",
    "create_engine",
    "create_schema",
    "current_revision",
    "migrate",
    "run_migrations",
    "startup_lock",
    "wait_until_reachable",
]
