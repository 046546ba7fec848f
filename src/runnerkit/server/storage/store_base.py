"""``SQLStoreBase``: the store's engine, its transactions, and its single-statement reads.

``read()`` and ``write()`` open one transaction on one pooled connection and hand out a
``Transaction`` whose methods run statements compiled once (``statements.py``) on the driver's
cursor. SQLite opens a write transaction with ``BEGIN IMMEDIATE`` (concurrent writers queue on
the database lock for ``busy_timeout`` instead of failing on upgrade) and a read transaction
with ``BEGIN``; ``synchronous=FULL`` (set when the engine connects) makes a commit durable
before it returns. PostgreSQL runs READ COMMITTED; rows to be changed are read
``FOR UPDATE``; unique constraints settle races.

``single()`` is for one statement: no explicit transaction at all (SQLite's autocommit reads
a consistent snapshot per statement). The store's one-call methods (``sql.SQLStore``) use it
for their reads.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from runnerkit.server.storage.statements import StatementCache
from runnerkit.server.storage.transaction import Transaction

if TYPE_CHECKING:
    from collections.abc import Iterator

    import sqlalchemy as sa


class SQLStoreBase:
    """An engine plus read, write and single-statement units of work.

    Args:
        engine: The engine (see ``sql.create_engine``).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._statements = StatementCache(engine.dialect)
        self._sqlite = engine.dialect.name == "sqlite"

    @property
    def engine(self) -> sa.Engine:
        """The underlying engine (for migrations and diagnostics)."""
        return self._engine

    def close(self) -> None:
        """Release pooled connections."""
        self._engine.dispose()

    @contextlib.contextmanager
    def _transaction(self, *, write: bool, begin: str | None) -> Iterator[Transaction]:
        dbapi: Any = self._engine.raw_connection()
        try:
            if begin is not None:
                cursor = dbapi.cursor()
                cursor.execute(begin)
                cursor.close()
            tx = Transaction(dbapi, self._statements, write=write)
            try:
                yield tx
            except BaseException:
                dbapi.rollback()
                raise
            dbapi.commit()
        finally:
            dbapi.close()

    def write(self) -> contextlib.AbstractContextManager[Transaction]:
        """A write transaction: ``with store.write() as tx: ...`` commits at the end."""
        return self._transaction(write=True, begin="BEGIN IMMEDIATE" if self._sqlite else None)

    def read(self) -> contextlib.AbstractContextManager[Transaction]:
        """A read transaction: one consistent view for several statements."""
        return self._transaction(write=False, begin="BEGIN" if self._sqlite else None)

    def single(self) -> contextlib.AbstractContextManager[Transaction]:
        """For one read statement: no explicit transaction on SQLite."""
        return self._transaction(write=False, begin=None)
