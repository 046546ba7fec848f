"""The store of the reference server: ``open_store(url)`` returns a migrated ``Store``."""

from __future__ import annotations

from runnerkit.server.storage.base import (
    PolicyRecord,
    RunnerQuery,
    RunnerRecord,
    RunnerTokenRecord,
    Store,
    SubjectRecord,
)
from runnerkit.server.storage.engine import create_engine, migrate
from runnerkit.server.storage.sql import SQLStore


def sqlite_url(path: object) -> str:
    """The SQLAlchemy URL of a SQLite file.

    Args:
        path: Path of the database file (str or ``pathlib.Path``).

    Returns:
        ``sqlite:///<path>``.
    """
    return f"sqlite:///{path}"


def open_store(url: str) -> SQLStore:
    """Open the store at ``url``, creating or migrating its schema first.

    Args:
        url: ``sqlite:///path/to/file.db`` or ``postgresql+psycopg://user@host/db``.

    Returns:
        The store; call ``close()`` when done.
    """
    engine = create_engine(url)
    migrate(engine)
    return SQLStore(engine)


__all__ = [
    "PolicyRecord",
    "RunnerQuery",
    "RunnerRecord",
    "RunnerTokenRecord",
    "SQLStore",
    "Store",
    "SubjectRecord",
    "open_store",
    "sqlite_url",
]
