"""Whole-store snapshots: every row of every table as JSON, restored in one transaction.

The tables are read from the database itself (SQLAlchemy reflection), so this works on SQLite
and PostgreSQL and follows the migrations without a list to keep in step. A snapshot names
the schema revision it was taken at and is refused by a store at another revision.
Binary columns are base64. Restoring deletes every row (children first) and inserts the
snapshot's rows (parents first), so a failed restore changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runnerkit.server.storage.connections import WRITE_OPTION

if TYPE_CHECKING:
    from collections.abc import Iterator

FORMAT = "runnerkit-snapshot/1"
_VERSION_TABLE = "alembic_version"
# The server's own bookkeeping (schema revision, master-key verifier): never snapshotted,
# restored or emptied.
SERVER_TABLES = frozenset({_VERSION_TABLE, "server_meta"})


class SnapshotError(ValueError):
    """A snapshot that is malformed or does not fit this store."""


def engine_of(store: object) -> sa.Engine:
    """The SQLAlchemy engine behind a store."""
    engine = getattr(store, "engine", None)
    if not isinstance(engine, sa.Engine):
        msg = f"{type(store).__name__} has no SQLAlchemy engine: snapshots need an SQL store"
        raise TypeError(msg)
    return engine


_reflected: dict[tuple[str, str], sa.MetaData] = {}
_reflect_lock = threading.Lock()


def _reflect(engine: sa.Engine) -> sa.MetaData:
    """The tables of a database, reflected once per dialect and schema revision."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(f"SELECT version_num FROM {_VERSION_TABLE}")).first()  # noqa: S608 - a constant
    key = (engine.dialect.name, "" if row is None else str(row[0]))
    with _reflect_lock:
        found = _reflected.get(key)
        if found is None:
            found = sa.MetaData()
            found.reflect(engine)
            _reflected[key] = found
        return found


class StoreState:
    """Snapshot, restore and inspect the rows of one database.

    Args:
        engine: The store's engine (migrated).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        metadata = _reflect(engine)
        self._tables = [t for t in metadata.sorted_tables if t.name not in SERVER_TABLES]
        self._by_name = {t.name: t for t in self._tables}
        self._binary = {
            t.name: {c.name for c in t.columns if isinstance(c.type, sa.LargeBinary)}
            for t in self._tables
        }

    def _revision(self, conn: sa.Connection) -> str:
        row = conn.execute(sa.text(f"SELECT version_num FROM {_VERSION_TABLE}")).first()  # noqa: S608 - a constant
        return "" if row is None else str(row[0])

    def snapshot(self) -> bytes:
        """Every row of every table, as JSON bytes (see the module docstring)."""
        tables: dict[str, Any] = {}
        with self.engine.connect() as conn, conn.begin():
            revision = self._revision(conn)
            for table in self._tables:
                columns = [c.name for c in table.columns]
                binary = self._binary[table.name]
                order = list(table.primary_key.columns) or list(table.columns)
                rows = [
                    [
                        _encode(value, name in binary)
                        for name, value in zip(columns, row, strict=True)
                    ]
                    for row in conn.execute(sa.select(table).order_by(*order))
                ]
                tables[table.name] = {"columns": columns, "rows": rows}
        document = {"format": FORMAT, "schema": revision, "tables": tables}
        return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()

    def restore(self, snapshot: bytes) -> None:
        """Replace every row with the snapshot's.

        Raises:
            SnapshotError: The snapshot is malformed, from another schema revision, or its
                rows do not fit the tables (nothing is changed then).
        """
        document = _parse(snapshot)
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                revision = self._revision(conn)
                if document.get("schema") != revision:
                    msg = (
                        f"snapshot is of schema revision {document.get('schema')!r}, "
                        f"this store is at {revision!r}"
                    )
                    raise SnapshotError(msg)
                rows = dict(self._rows(document["tables"]))
                for table in reversed(self._tables):
                    conn.execute(table.delete())
                try:
                    for table in self._tables:
                        if rows.get(table.name):
                            conn.execute(table.insert(), rows[table.name])
                except sa.exc.SQLAlchemyError as exc:
                    cause = getattr(exc, "orig", None) or exc
                    msg = f"snapshot rows do not fit the store: {type(cause).__name__}"
                    raise SnapshotError(msg) from None

    def _rows(self, tables: Any) -> Iterator[tuple[str, list[dict[str, Any]]]]:  # noqa: ANN401
        if not isinstance(tables, dict):
            raise SnapshotError("snapshot: 'tables' must be an object")
        for name, content in tables.items():
            table = self._by_name.get(name)
            if table is None:
                raise SnapshotError(f"snapshot: unknown table {name!r}")
            if not isinstance(content, dict):
                raise SnapshotError(f"snapshot: tables.{name} must be an object")
            columns, rows = content.get("columns"), content.get("rows")
            known = {c.name for c in table.columns}
            if not isinstance(columns, list) or not set(map(str, columns)) <= known:
                raise SnapshotError(f"snapshot: tables.{name}.columns must name columns of {name}")
            if not isinstance(rows, list):
                raise SnapshotError(f"snapshot: tables.{name}.rows must be a list")
            binary = self._binary[name]
            decoded = []
            for index, row in enumerate(rows):
                if not isinstance(row, list) or len(row) != len(columns):
                    msg = f"snapshot: tables.{name}.rows[{index}] must have {len(columns)} values"
                    raise SnapshotError(msg)
                decoded.append(
                    {
                        col: _decode(value, col in binary, f"tables.{name}.rows[{index}]")
                        for col, value in zip(columns, row, strict=True)
                    }
                )
            yield name, decoded

    def row_counts(self) -> dict[str, int]:
        """Rows per table (diagnostics and the 'store has data' check)."""
        with self.engine.connect() as conn, conn.begin():
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in self._tables
            }


def _encode(value: object, binary: bool) -> object:
    if binary and value is not None:
        return base64.b64encode(bytes(value)).decode()  # type: ignore[call-overload]
    return value


def _decode(value: object, binary: bool, where: str) -> object:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise SnapshotError(f"snapshot: {where}: values must be strings, numbers or null")
    if binary and value is not None:
        if not isinstance(value, str):
            raise SnapshotError(f"snapshot: {where}: binary values must be base64 strings")
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise SnapshotError(f"snapshot: {where}: bad base64") from None
    return value


def _parse(snapshot: bytes) -> dict[str, Any]:
    try:
        document = json.loads(snapshot)
    except (ValueError, UnicodeDecodeError):
        raise SnapshotError("snapshot: not a runnerkit snapshot (not JSON)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f"snapshot: not a runnerkit snapshot (format must be {FORMAT!r})")
    if "tables" not in document:
        raise SnapshotError("snapshot: 'tables' is missing")
    return document
