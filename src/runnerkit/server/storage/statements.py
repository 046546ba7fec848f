"""SQLAlchemy Core statements compiled once per dialect and run on the DB-API connection.

The store builds its statements with SQLAlchemy Core (one schema, both dialects) but runs them
on the driver's own cursor: a statement defined at module level (values as named
``sa.bindparam``) is compiled on first use and cached, so a call costs what the driver costs
plus a dictionary look-up. Statements whose shape depends on the call (list filters, ``IN``
lists) are compiled per call. Rows come back as the driver's tuples, in the order the
statement selects its columns.

``SQLTx`` is the base of the store's transactions (``storage/transaction.py``); the aggregate
modules (``sql_runners.py``, ``sql_policies.py``, ...) add the typed methods.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import sqlalchemy as sa

Row = tuple[Any, ...]
_MAX_CACHED = 4096
_log = logging.getLogger("runnerkit.server.storage")


@dataclass(frozen=True)
class Compiled:
    """A statement as its dialect's SQL text with the names of its parameters in order."""

    sql: str
    names: tuple[str, ...] | None  # positional order (qmark/format); None: by name
    defaults: Mapping[str, Any]

    def params(self, given: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """The DB-API parameters for ``given`` values (defaults: the statement's literals)."""
        values = {**self.defaults, **given} if self.defaults else given
        if self.names is None:
            return values
        return tuple(values[name] for name in self.names)


def compile_for(stmt: sa.ClauseElement, dialect: sa.Dialect) -> Compiled:
    """Compile ``stmt`` for ``dialect``, ``IN`` lists expanded into single parameters.

    Args:
        stmt: A Core statement.
        dialect: The engine's dialect.

    Returns:
        The SQL text and parameter order.
    """
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    defaults = {k: v for k, v in compiled.params.items() if v is not None}
    positions = getattr(compiled, "positiontup", None) or ()
    names = tuple(positions) if dialect.positional else None
    return Compiled(str(compiled), names, defaults)


class StatementCache:
    """Compiled module-level statements of one dialect (keyed by the statement object)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self.integrity_error: type[Exception] = dialect.loaded_dbapi.IntegrityError
        self._compiled: dict[int, tuple[sa.ClauseElement, Compiled]] = {}

    def get(self, stmt: sa.ClauseElement) -> Compiled:
        """The compiled form of a statement that lives as long as the process."""
        entry = self._compiled.get(id(stmt))
        if entry is None or entry[0] is not stmt:
            if len(self._compiled) >= _MAX_CACHED:
                self._compiled.clear()
            entry = (stmt, compile_for(stmt, self.dialect))
            self._compiled[id(stmt)] = entry
        return entry[1]


class SQLTx:
    """One transaction on a DB-API connection: run statements, read rows.

    Args:
        dbapi: The driver's connection (checked out of the engine's pool).
        statements: The compiled-statement cache of the engine's dialect.
        write: Whether this is a write transaction.
    """

    def __init__(self, dbapi: Any, statements: StatementCache, *, write: bool) -> None:  # noqa: ANN401 - a DB-API connection
        self._dbapi = dbapi
        self._statements = statements
        self.write = write
        self.integrity_error = statements.integrity_error
        self.postgres = statements.dialect.name == "postgresql"

    @property
    def connection(self) -> Any:  # noqa: ANN401 - a DB-API connection
        """The driver's connection this transaction runs on."""
        return self._dbapi

    def _compiled(self, stmt: sa.ClauseElement, *, cached: bool) -> Compiled:
        if cached:
            return self._statements.get(stmt)
        return compile_for(stmt, self._statements.dialect)

    def rows(
        self,
        stmt: sa.ClauseElement,
        params: Mapping[str, Any] | None = None,
        *,
        cached: bool = True,
    ) -> list[Row]:
        """All rows of a SELECT.

        Args:
            stmt: The statement (module-level and ``cached``, or built for this call).
            params: Values of its named bind parameters.
            cached: False for a statement built for this call only.

        Returns:
            The driver's row tuples.
        """
        compiled = self._compiled(stmt, cached=cached)
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(compiled.sql, compiled.params(params or {}))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def first(
        self,
        stmt: sa.ClauseElement,
        params: Mapping[str, Any] | None = None,
        *,
        cached: bool = True,
    ) -> Row | None:
        """The first row of a SELECT, or None."""
        compiled = self._compiled(stmt, cached=cached)
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(compiled.sql, compiled.params(params or {}))
            row = cursor.fetchone()
            return None if row is None else tuple(row)
        finally:
            cursor.close()

    def execute(
        self,
        stmt: sa.ClauseElement,
        params: Mapping[str, Any] | None = None,
        *,
        cached: bool = True,
    ) -> int:
        """Run an INSERT, UPDATE or DELETE; the number of rows it touched."""
        compiled = self._compiled(stmt, cached=cached)
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(compiled.sql, compiled.params(params or {}))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def row_to_change(
        self, by_id: sa.ClauseElement, by_id_for_update: sa.ClauseElement, row_id: str
    ) -> Row | None:
        """The row with ``row_id`` (bind parameter ``id``), read to be changed.

        PostgreSQL locks it (``FOR UPDATE``); on SQLite the write transaction already holds
        the database's write lock.
        """
        return self.first(by_id_for_update if self.postgres else by_id, {"id": row_id})

    def update_by_id(self, update: sa.ClauseElement, values: Mapping[str, object]) -> None:
        """Run ``update`` (``… WHERE id = :b_id``) with a record's column values."""
        params = dict(values)
        params["b_id"] = params.pop("id")
        self.execute(update, params)

    def execute_many(self, stmt: sa.ClauseElement, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a (module-level) statement once per parameter set."""
        if not rows:
            return
        compiled = self._statements.get(stmt)
        cursor = self._dbapi.cursor()
        try:
            cursor.executemany(compiled.sql, [compiled.params(row) for row in rows])
        finally:
            cursor.close()


def record_values(record: object) -> dict[str, Any]:
    """The column values of a flat record (a dataclass whose fields are its table's columns).

    A shallow copy of the instance's fields: the values are immutable (str, int, bytes,
    tuples), so the deep copy ``dataclasses.asdict`` makes (~16 µs for a runner) buys nothing.
    """
    return dict(vars(record))


# SQLite names the columns of a failed UNIQUE constraint; PostgreSQL names the constraint.
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")


def violated_constraint(exc: BaseException, tables: Mapping[str, str]) -> str | None:
    """Which constraint an integrity error broke, as a name of ``tables``' vocabulary.

    Args:
        exc: The driver's ``IntegrityError``.
        tables: Maps SQLite's ``table.column, ...`` description of a unique key to the
            constraint's name (PostgreSQL reports the name itself).

    Returns:
        The constraint name, ``"foreign_key"`` for a foreign key violation, or None when
        the error is none of these (then it is a bug: callers re-raise it).
    """
    diag = getattr(exc, "diag", None)
    if diag is not None:  # psycopg
        sqlstate = getattr(exc, "sqlstate", None)
        if sqlstate == "23503":  # foreign_key_violation
            return "foreign_key"
        if sqlstate == "23505":  # unique_violation
            name = getattr(diag, "constraint_name", None)
            return str(name) if name else None
        return None
    text = str(exc)
    if "FOREIGN KEY constraint failed" in text:
        return "foreign_key"
    match = _SQLITE_UNIQUE.search(text)
    if match:
        return tables.get(match.group(1).strip())
    return None


def log_unexpected(exc: BaseException, where: str) -> None:
    """Log an integrity error no rule explains (it then surfaces as an internal error)."""
    _log.error("unexpected integrity error in %s: %s", where, exc)
