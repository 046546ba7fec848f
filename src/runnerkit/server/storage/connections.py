"""Transactions on a SQLAlchemy engine: what every part of ``SQLStore`` builds on."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    import sqlalchemy as sa

# Execution option marking a write transaction (SQLite opens it with BEGIN IMMEDIATE).
WRITE_OPTION = "runnerkit_write"


class SQLConnections:
    """An engine plus one-transaction read and write scopes.

    Args:
        engine: The engine (see ``engine.create_engine``).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> sa.Engine:
        """The underlying engine (for migrations and diagnostics)."""
        return self._engine

    def close(self) -> None:
        """Release pooled connections."""
        self._engine.dispose()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn
