"""``SQLStoreBase``: the store's engine, its transactions, and its single-statement reads.

``read()`` and ``write()`` open one transaction on one pooled connection and hand out a
``Transaction`` whose methods run statements compiled once (``statements.py``) on the driver's
cursor. SQLite opens a write transaction with ``BEGIN IMMEDIATE`` (concurrent writers queue on
the database lock for ``busy_timeout`` instead of failing on upgrade) and a read transaction
with ``BEGIN``; ``synchronous=FULL`` (set when the engine connects) makes a commit durable
before it returns. PostgreSQL runs READ COMMITTED; rows to be changed are read
``FOR UPDATE``; unique constraints settle races.

``write_group()`` is group commit (``write_group.py``): inside it, the ``write()`` blocks of
the calling thread are savepoints of one transaction that the caller commits once; the server's
SQLite writer thread (``handlers/group_commit.py``) runs concurrent writes in groups this way.

``single()`` is for one read statement: no explicit transaction at all (an autocommit
statement reads one consistent snapshot). On a SQLite file it runs on a connection of the
calling thread's own, kept until the thread ends (read-only, ``query_only``), so the hottest reads
(token → subject, runner by id, roles) cost about what the driver costs; elsewhere it checks a
connection out of the pool. The store's one-call methods (``store.SQLStore``) use it for their
reads.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import TYPE_CHECKING, Any

from runnerkit.server.storage.statements import StatementCache
from runnerkit.server.storage.transaction import Transaction
from runnerkit.server.storage.write_group import WriteGroup

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
        self._write_begin = "BEGIN IMMEDIATE" if self._sqlite else None
        database = engine.url.database or ""
        in_memory = database in ("", ":memory:") or "mode=memory" in database
        self._lean = self._sqlite and not in_memory
        self._local = threading.local()
        self._lean_connections: set[Any] = set()
        self._lean_lock = threading.Lock()

    @property
    def engine(self) -> sa.Engine:
        """The underlying engine (for migrations and diagnostics)."""
        return self._engine

    def close(self) -> None:
        """Release pooled connections and the threads' read connections."""
        with self._lean_lock:
            lean = list(self._lean_connections)
            self._lean_connections.clear()
            self._local = threading.local()
        for connection in lean:
            connection.close()
        self._engine.dispose()

    def _lean_tx(self) -> Transaction:
        """This thread's read-only autocommit transaction on its own SQLite connection.

        The connection comes from the engine (so it is set up like every other) and is then
        detached from the pool: it belongs to the thread until the thread ends or ``close()``.
        """
        tx: Transaction | None = getattr(self._local, "tx", None)
        if tx is None:
            connection = self._own_connection()
            connection.execute("PRAGMA query_only=ON")
            tx = Transaction(connection, self._statements, write=False)
            self._local.tx = tx
        return tx

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
        """A write transaction: ``with store.write() as tx: ...`` commits at the end.

        Inside :meth:`write_group` on the same thread, it is a savepoint of the group's
        transaction instead, committed with the group.
        """
        group: WriteGroup | None = getattr(self._local, "group", None)
        if group is not None:
            return group.savepoint()
        return self._transaction(write=True, begin=self._write_begin)

    @contextlib.contextmanager
    def write_group(self) -> Iterator[WriteGroup]:
        """Group commit: the ``write()`` blocks this thread runs inside share one transaction.

        The caller commits the group (``group.commit()``) and only then reports the writes as
        done; leaving the block without committing rolls back what is left (see
        ``write_group.py``). Groups do not nest.

        Yields:
            The group.
        """
        if getattr(self._local, "group", None) is not None:
            msg = "write groups do not nest"
            raise RuntimeError(msg)
        if not self._lean:  # PostgreSQL, in-memory SQLite: a pooled connection per group
            dbapi: Any = self._engine.raw_connection()
            try:
                yield from self._grouped(dbapi)
            finally:
                dbapi.close()
            return
        # A SQLite file: the thread's own write connection, kept between groups (no pool
        # check-out, check-in and reset per group); dropped after a group that failed.
        connection = getattr(self._local, "write_connection", None)
        if connection is None:
            connection = self._own_connection()
            self._local.write_connection = connection
        ok = False
        try:
            yield from self._grouped(connection)
            ok = True
        finally:
            if not ok:
                self._local.write_connection = None
                _close_lean(self._lean_connections, self._lean_lock, connection)

    def _grouped(self, dbapi: Any) -> Iterator[WriteGroup]:  # noqa: ANN401 - a DB-API connection
        group = WriteGroup(dbapi, self._statements, self._write_begin)
        self._local.group = group
        try:
            yield group
        finally:
            self._local.group = None
            group.rollback()  # a no-op after the commit; else nothing of the group stays

    def _own_connection(self) -> Any:  # noqa: ANN401 - a DB-API connection
        """A driver connection of the calling thread's own, set up like every other.

        It comes from the engine and is then detached from the pool: it belongs to the thread
        until the thread ends or ``close()``.
        """
        pooled = self._engine.raw_connection()
        connection: Any = pooled.driver_connection
        pooled.detach()  # the pool forgets it; close() or the thread's end closes it
        with self._lean_lock:
            self._lean_connections.add(connection)
        weakref.finalize(
            threading.current_thread(),
            _close_lean,
            self._lean_connections,
            self._lean_lock,
            connection,
        )
        return connection

    def _in_group(self) -> contextlib.AbstractContextManager[Transaction] | None:
        """The open write group's transaction, for a read on the group's thread; else None.

        A read inside a group that has written must see the group's uncommitted changes: those
        of its own operation (read-your-writes) and of the operations before it in the group,
        which run one after the other as if each had committed in turn. A group that has not
        written yet holds nothing uncommitted: reads go their usual way.
        """
        group: WriteGroup | None = getattr(self._local, "group", None)
        if group is None or not group.began:
            return None
        return contextlib.nullcontext(group.transaction)

    def read(self) -> contextlib.AbstractContextManager[Transaction]:
        """A read transaction: one consistent view for several statements.

        On a SQLite file it runs on the thread's own read-only connection (``BEGIN`` ...
        ``COMMIT``); a ``read()`` opened inside another on the same thread joins it. Inside a
        write group that has written, it joins the group's transaction (``_in_group``).
        """
        joined = self._in_group()
        if joined is not None:
            return joined
        if self._lean:
            return self._lean_read()
        return self._transaction(write=False, begin="BEGIN" if self._sqlite else None)

    @contextlib.contextmanager
    def _lean_read(self) -> Iterator[Transaction]:
        tx = self._lean_tx()
        depth: int = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield tx
            finally:
                self._local.depth = depth
            return
        connection = tx.connection
        connection.execute("BEGIN")
        self._local.depth = 1
        try:
            yield tx
        finally:
            self._local.depth = 0
            connection.execute("COMMIT")

    def single(self) -> contextlib.AbstractContextManager[Transaction]:
        """For one read statement: no explicit transaction (see the module docstring)."""
        joined = self._in_group()
        if joined is not None:
            return joined
        if self._lean:
            return contextlib.nullcontext(self._lean_tx())
        return self._transaction(write=False, begin=None)


def _close_lean(connections: set[Any], lock: threading.Lock, connection: Any) -> None:  # noqa: ANN401 - a DB-API connection
    """Close a thread's read connection when the thread is gone (unless ``close()`` did)."""
    with lock:
        if connection not in connections:
            return
        connections.discard(connection)
    connection.close()
