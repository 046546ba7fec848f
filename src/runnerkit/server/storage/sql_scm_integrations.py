"""SCM integrations of runners: one per (runner, normalised host) (the store's SCM aggregate)."""

from __future__ import annotations

import dataclasses
import functools
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
from runnerkit.server.storage.records import SCMIntegrationRecord
from runnerkit.server.storage.sql_host_tokens import delete_tokens
from runnerkit.server.storage.statements import (
    SQLTx,
    log_unexpected,
    record_values,
    violated_constraint,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from runnerkit.server.storage.records import SCMChange, SCMIntegrationQuery

s = ct.scm_integrations
_COLUMNS = tuple(s.c[f.name] for f in dataclasses.fields(SCMIntegrationRecord))
_BY_ID = sa.select(*_COLUMNS).where(s.c.id == sa.bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_FOR_HOST = sa.select(s.c.id).where(
    s.c.runner_id == sa.bindparam("runner_id"), s.c.host == sa.bindparam("host")
)
_OF_RUNNER = (
    sa.select(*_COLUMNS)
    .where(s.c.runner_id == sa.bindparam("runner_id"))
    .order_by(s.c.created_at, s.c.id)
)
_INSERT = s.insert()
_UPDATE = (
    s.update()
    .where(s.c.id == sa.bindparam("b_id"))
    .values({c.name: sa.bindparam(c.name) for c in _COLUMNS if c.name != "id"})
)
_DELETE = s.delete().where(s.c.id == sa.bindparam("id"))
_UNIQUE_KEYS = {
    "scm_integrations.runner_id, scm_integrations.host": "uq_scm_integrations_runner_host",
    "scm_integrations.id": "scm_integrations_pkey",
}


def _record(row: Sequence[Any]) -> SCMIntegrationRecord:
    values = list(row)
    values[5] = bytes(values[5])  # oauth_client_secret_sealed
    values[7] = bool(values[7])  # pat
    return SCMIntegrationRecord(*values)


@functools.lru_cache(maxsize=256)
def _list_statement(groups: int | None, runners: int, after: bool) -> sa.Select[Any]:
    r = t.runners
    stmt = sa.select(*_COLUMNS).join(r, r.c.id == s.c.runner_id)
    if groups is not None:
        stmt = stmt.where(may_use(groups))
    if runners:
        stmt = stmt.where(in_list(s.c.runner_id, "r", runners))
    if after:
        stmt = stmt.where(after_position(s))
    return stmt.order_by(s.c.created_at, s.c.id).limit(sa.bindparam("lim"))


class SCMIntegrationsTx(SQLTx):
    """SCM-integration methods of a store transaction."""

    def insert_scm_integration(self, record: SCMIntegrationRecord) -> None:
        """Insert an integration.

        Raises:
            AlreadyExistsError: The runner has an integration for the host.
            NotFoundError: The runner does not exist.
        """
        message = f"runner {record.runner_id} has an SCM integration for {record.host} already"
        if self.first(_FOR_HOST, {"runner_id": record.runner_id, "host": record.host}):
            raise AlreadyExistsError(message)
        try:
            self.execute(_INSERT, record_values(record))
        except self.integrity_error as exc:
            which = violated_constraint(exc, _UNIQUE_KEYS)
            if which == "uq_scm_integrations_runner_host":  # lost a race to a twin
                raise AlreadyExistsError(message) from exc
            if which == "foreign_key":
                raise NotFoundError(f"runner {record.runner_id} not found") from exc
            log_unexpected(exc, "insert_scm_integration")
            raise

    def get_scm_integration(self, integration_id: str) -> SCMIntegrationRecord | None:
        """An integration, or None."""
        row = self.first(_BY_ID, {"id": integration_id})
        return None if row is None else _record(row)

    def list_scm_integrations(
        self, query: SCMIntegrationQuery, after: tuple[int, str] | None, limit: int
    ) -> list[SCMIntegrationRecord]:
        """Up to ``limit`` integrations after ``(created_at, id)``, in order."""
        viewer = query.viewer
        groups = None if viewer is None else len(viewer.group_ids)
        stmt = _list_statement(groups, len(query.runner_ids), after is not None)
        params: dict[str, object] = {"lim": limit}
        if viewer is not None:
            bind_viewer(params, viewer)
        bind_list(params, "r", query.runner_ids)
        bind_after(params, after)
        return [_record(row) for row in self.rows(stmt, params)]

    def scm_integrations_of_runner(self, runner_id: str) -> list[SCMIntegrationRecord]:
        """All integrations of a runner, in creation order."""
        return [_record(row) for row in self.rows(_OF_RUNNER, {"runner_id": runner_id})]

    def update_scm_integration(
        self,
        integration_id: str,
        change: Callable[[SCMIntegrationRecord], SCMChange | None],
    ) -> SCMIntegrationRecord | None:
        """Apply ``change`` and delete the host tokens it names; None if the integration is gone.

        ``change`` returns None (no change) or the new row and the token sources whose host
        tokens of the integration's runner and host are deleted in the same transaction.
        """
        row = self.row_to_change(_BY_ID, _BY_ID_FOR_UPDATE, integration_id)
        if row is None:
            return None
        current = _record(row)
        result = change(current)
        if result is None:
            return current
        updated, sources = result
        self.update_by_id(_UPDATE, record_values(updated))
        delete_tokens(self, current.runner_id, current.host, sources)
        return updated

    def delete_scm_integration(self, integration_id: str, token_sources: Sequence[int]) -> bool:
        """Delete an integration and its runner+host's tokens of these sources; False if gone."""
        row = self.first(_BY_ID, {"id": integration_id})
        if row is None:
            return False
        current = _record(row)
        delete_tokens(self, current.runner_id, current.host, token_sources)
        self.execute(_DELETE, {"id": integration_id})
        return True
