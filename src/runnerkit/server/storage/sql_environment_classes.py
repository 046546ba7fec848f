"""Environment classes of runners (the store's environment-class aggregate)."""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runnerkit.server.domain.errors import AlreadyExistsError, NotFoundError
from runnerkit.server.storage import config_tables as ct
from runnerkit.server.storage import tables as t
from runnerkit.server.storage.queries import (
    after_position,
    bind_after,
    bind_list,
    bind_viewer,
    in_list,
    may_use,
)
from runnerkit.server.storage.records import EnvironmentClassRecord
from runnerkit.server.storage.statements import (
    SQLTx,
    log_unexpected,
    record_values,
    violated_constraint,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from runnerkit.server.storage.records import EnvironmentClassQuery

ec = ct.environment_classes
_COLUMNS = tuple(ec.c[f.name] for f in dataclasses.fields(EnvironmentClassRecord))
_BY_ID = sa.select(*_COLUMNS).where(ec.c.id == sa.bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_INSERT = ec.insert()
_UPDATE = (
    ec.update()
    .where(ec.c.id == sa.bindparam("b_id"))
    .values({c.name: sa.bindparam(c.name) for c in _COLUMNS if c.name != "id"})
)
_UNIQUE_KEYS = {"environment_classes.id": "environment_classes_pkey"}


def _record(row: Sequence[Any]) -> EnvironmentClassRecord:
    pairs = json.loads(row[4])
    return EnvironmentClassRecord(
        id=row[0],
        runner_id=row[1],
        display_name=row[2],
        description=row[3],
        configuration=tuple((str(k), str(v)) for k, v in pairs),
        enabled=bool(row[5]),
        created_at=row[6],
        updated_at=row[7],
    )


def _values(record: EnvironmentClassRecord) -> dict[str, object]:
    pairs = [list(pair) for pair in record.configuration]
    return {**record_values(record), "configuration": json.dumps(pairs)}


@functools.lru_cache(maxsize=256)
def _list_statement(
    groups: int | None, runners: int, kinds: int, providers: int, *, enabled: bool, after: bool
) -> sa.Select[Any]:
    r = t.runners
    stmt = sa.select(*_COLUMNS).join(r, r.c.id == ec.c.runner_id)
    if groups is not None:
        stmt = stmt.where(may_use(groups))
    if runners:
        stmt = stmt.where(in_list(ec.c.runner_id, "r", runners))
    if kinds:
        stmt = stmt.where(in_list(r.c.kind, "k", kinds))
    if providers:
        stmt = stmt.where(in_list(r.c.provider, "p", providers))
    if enabled:
        stmt = stmt.where(ec.c.enabled == sa.bindparam("enabled"))
    if after:
        stmt = stmt.where(after_position(ec))
    return stmt.order_by(ec.c.created_at, ec.c.id).limit(sa.bindparam("lim"))


class EnvironmentClassesTx(SQLTx):
    """Environment-class methods of a store transaction."""

    def insert_environment_class(self, record: EnvironmentClassRecord) -> None:
        """Insert an environment class (NotFoundError if its runner is gone)."""
        try:
            self.execute(_INSERT, _values(record))
        except self.integrity_error as exc:
            which = violated_constraint(exc, _UNIQUE_KEYS)
            if which == "foreign_key":
                raise NotFoundError(f"runner {record.runner_id} not found") from exc
            if which == "environment_classes_pkey":
                raise AlreadyExistsError(f"environment class {record.id} exists already") from exc
            log_unexpected(exc, "insert_environment_class")
            raise

    def get_environment_class(self, class_id: str) -> EnvironmentClassRecord | None:
        """An environment class, or None."""
        row = self.first(_BY_ID, {"id": class_id})
        return None if row is None else _record(row)

    def list_environment_classes(
        self, query: EnvironmentClassQuery, after: tuple[int, str] | None, limit: int
    ) -> list[EnvironmentClassRecord]:
        """Up to ``limit`` classes after ``(created_at, id)``, in order."""
        viewer = query.viewer
        stmt = _list_statement(
            None if viewer is None else len(viewer.group_ids),
            len(query.runner_ids),
            len(query.runner_kinds),
            len(query.runner_providers),
            enabled=query.enabled is not None,
            after=after is not None,
        )
        params: dict[str, object] = {"lim": limit, "enabled": query.enabled}
        if viewer is not None:
            bind_viewer(params, viewer)
        bind_list(params, "r", query.runner_ids)
        bind_list(params, "k", query.runner_kinds)
        bind_list(params, "p", query.runner_providers)
        bind_after(params, after)
        return [_record(row) for row in self.rows(stmt, params)]

    def update_environment_class(
        self,
        class_id: str,
        change: Callable[[EnvironmentClassRecord], EnvironmentClassRecord | None],
    ) -> EnvironmentClassRecord | None:
        """Apply ``change`` (None: no change) to the current row; None if the class is gone."""
        row = self.row_to_change(_BY_ID, _BY_ID_FOR_UPDATE, class_id)
        if row is None:
            return None
        current = _record(row)
        updated = change(current)
        if updated is None:
            return current
        self.update_by_id(_UPDATE, _values(updated))
        return updated
