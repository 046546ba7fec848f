"""``WriteGroup``: several write units of work in one transaction, committed once (group commit).

On SQLite every commit is an fsync (``synchronous=FULL``), and SQLite has one writer at a time:
writes that arrive while one commits can only wait. A write group lets one thread run the
writes that are waiting one after the other in a single transaction and commit them with one
fsync. Inside the group each ``store.write()`` block is a ``SAVEPOINT``: a block that raises
rolls back to its savepoint (its own changes only) and its exception goes to its caller; the
blocks that succeeded stay in the transaction. (The first block, with nothing else in the
transaction yet, needs no savepoint: if it fails, the transaction rolls back.) Nothing is durable, and so nothing may be
acknowledged, before :meth:`WriteGroup.commit` returns.

The transaction begins (``BEGIN IMMEDIATE`` on SQLite) with the group's first write, so a group
whose operations fail before they write takes no lock. SQLite may abort a whole transaction on
some errors (a full disk, an I/O error); then :attr:`WriteGroup.intact` turns false, the
changes of the blocks that had succeeded are gone with it, and the caller of the group must
not report them as done (``handlers/group_commit.py`` runs them again in a new group).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from runnerkit.server.storage.transaction import Transaction

if TYPE_CHECKING:
    from collections.abc import Iterator

    from runnerkit.server.storage.statements import StatementCache


class WriteGroup:
    """One transaction shared by the write blocks run inside it (see the module docstring).

    Args:
        dbapi: The driver's connection, checked out for the group.
        statements: The compiled-statement cache of the engine's dialect.
        begin: The statement that opens the transaction (``BEGIN IMMEDIATE`` on SQLite), or
            None when the driver opens it by itself (PostgreSQL).
    """

    def __init__(self, dbapi: Any, statements: StatementCache, begin: str | None) -> None:  # noqa: ANN401 - a DB-API connection
        self._dbapi = dbapi
        self._tx = Transaction(dbapi, statements, write=True)
        self._begin = begin
        self._began = False
        self._broken = False
        self._savepoints = 0
        self._kept = 0  # blocks whose changes the transaction holds
        self._depth = 0  # blocks open (an operation may open one inside another)

    @property
    def began(self) -> bool:
        """Whether a write block has run, i.e. the transaction is open."""
        return self._began

    @property
    def transaction(self) -> Transaction:
        """The group's transaction: reads inside the group see the changes made so far."""
        return self._tx

    @property
    def intact(self) -> bool:
        """False once the database dropped the transaction (the group's changes are lost)."""
        return not self._broken

    def _run(self, sql: str) -> None:
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[Transaction]:
        """A write block of the group: its changes roll back alone when the block raises.

        Yields:
            The group's transaction.
        """
        if not self._began:
            if self._begin is not None:
                self._run(self._begin)
            self._began = True
        self._depth += 1
        try:
            if self._kept == 0 and self._depth == 1:
                # Nothing else is in the transaction yet: no savepoint needed (two statements
                # fewer for a lone write); if the block fails, the transaction rolls back.
                try:
                    yield self._tx
                except BaseException:
                    self.rollback()
                    raise
            else:
                with self._in_savepoint():
                    yield self._tx
        finally:
            self._depth -= 1
        if self._depth == 0:
            self._kept += 1

    @contextlib.contextmanager
    def _in_savepoint(self) -> Iterator[None]:
        self._savepoints += 1
        name = f"rk_write_{self._savepoints}"
        self._run(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._rollback_to(name)
            raise
        try:
            self._run(f"RELEASE SAVEPOINT {name}")
        except BaseException:
            self._rollback_to(name)
            raise

    def _rollback_to(self, name: str) -> None:
        """Undo a block's changes; a database that has dropped the transaction breaks the group."""
        try:
            self._run(f"ROLLBACK TO SAVEPOINT {name}")
            self._run(f"RELEASE SAVEPOINT {name}")
        except Exception:  # noqa: BLE001 - the block's own exception is the one to report
            self._broken = True
            return
        if self._sqlite_dropped():
            self._broken = True

    def _sqlite_dropped(self) -> bool:
        in_transaction = getattr(self._dbapi, "in_transaction", None)
        return in_transaction is False  # sqlite3 says; other drivers: the savepoint commands did

    def check(self) -> None:
        """Mark the group broken if the database has dropped its transaction meanwhile."""
        if self._began and self._sqlite_dropped():
            self._broken = True

    def commit(self) -> None:
        """Make every block that succeeded durable at once (nothing to do if none wrote)."""
        if self._began:
            self._dbapi.commit()
            self._began = False
            self._kept = 0

    def rollback(self) -> None:
        """Undo the whole group (the next block begins a new transaction)."""
        if self._began:
            self._began = False
            self._kept = 0
            self._dbapi.rollback()
