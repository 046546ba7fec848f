"""The store's engine and migrations (``SQLStore`` itself lives in ``store.py``).

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is on disk before the call returns,
so acknowledged writes survive a crash of the process), foreign keys on, and write
transactions opened with ``BEGIN IMMEDIATE`` so that concurrent writers queue on the database
lock (``busy_timeout``) instead of failing on upgrade. PostgreSQL needs nothing special: each
transaction is READ COMMITTED and unique indexes settle races.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from runnerkit.server.storage.connections import WRITE_OPTION
from runnerkit.server.storage.store import SQLStore

_BUSY_TIMEOUT_S = 30.0


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


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` configured for the store (see the module docstring).

    Args:
        url: A SQLAlchemy URL, ``sqlite:///path`` or ``postgresql+psycopg://...``.

    Returns:
        The engine.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT_S}
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True)


def migrate(engine: sa.Engine) -> None:
    """Bring the database schema to the newest revision (creating it when empty).

    Args:
        engine: Engine of the database to migrate.
    """
    config = Config()
    location = resources.files("runnerkit.server.storage") / "migrations"
    config.set_main_option("script_location", str(location))
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


__all__ = ["SQLStore", "create_engine", "migrate"]
