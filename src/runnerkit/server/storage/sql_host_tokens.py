"""Host authentication tokens: one per (runner, host, subject), values sealed to the runner."""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runnerkit.server.domain.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from runnerkit.server.storage import config_tables as ct
from runnerkit.server.storage import tables as t
from runnerkit.server.storage.queries import after_position, bind_after, bind_viewer, policy_exists
from runnerkit.server.storage.records import HostTokenRecord
from runnerkit.server.storage.statements import (
    SQLTx,
    log_unexpected,
    record_values,
    violated_constraint,
)
from runnerkit_proto.gitpod.v1 import identity_pb2

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from runnerkit.server.storage.records import HostTokenQuery

h, s = ct.host_tokens, ct.scm_integrations
_PRINCIPAL_USER = identity_pb2.PRINCIPAL_USER
_COLUMNS = tuple(h.c[f.name] for f in dataclasses.fields(HostTokenRecord))
_BY_ID = sa.select(*_COLUMNS).where(h.c.id == sa.bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_BY_KEY = sa.select(*_COLUMNS).where(
    h.c.runner_id == sa.bindparam("runner_id"),
    h.c.host == sa.bindparam("host"),
    h.c.subject_id == sa.bindparam("subject_id"),
)
_INTEGRATION_MATCHES = sa.select(s.c.id).where(
    s.c.id == sa.bindparam("integration_id"),
    s.c.runner_id == sa.bindparam("runner_id"),
    s.c.host == sa.bindparam("host"),
)
_INSERT = h.insert()
_UPDATE = (
    h.update()
    .where(h.c.id == sa.bindparam("b_id"))
    .values({c.name: sa.bindparam(c.name) for c in _COLUMNS if c.name != "id"})
)
_DELETE = h.delete().where(h.c.id == sa.bindparam("id"))
_UNEXPIRED = sa.or_(h.c.expires_at.is_(None), h.c.expires_at > sa.bindparam("now"))
_HAS_UNEXPIRED_ANY = (
    sa.select(h.c.id)
    .where(h.c.host == sa.bindparam("host"), h.c.subject_id == sa.bindparam("subject_id"))
    .where(_UNEXPIRED)
    .limit(1)
)
_HAS_UNEXPIRED_ON = _HAS_UNEXPIRED_ANY.where(h.c.runner_id == sa.bindparam("runner_id"))
_HOSTS = (
    sa.select(h.c.host)
    .where(h.c.runner_id == sa.bindparam("runner_id"), h.c.subject_id == sa.bindparam("subject_id"))
    .where(_UNEXPIRED)
    .distinct()
    .order_by(h.c.host)
)
_UNIQUE_KEYS = {
    "host_auth_tokens.runner_id, host_auth_tokens.host, host_auth_tokens.subject_id": (
        "uq_host_auth_tokens_runner_host_subject"
    ),
    "host_auth_tokens.id": "host_auth_tokens_pkey",
}


def _record(row: Sequence[Any]) -> HostTokenRecord:
    values = list(row)
    values[6] = bytes(values[6])  # token_sealed
    values[7] = bytes(values[7])  # refresh_token_sealed
    values[10] = tuple(json.loads(values[10]))  # scopes
    return HostTokenRecord(*values)


def _values(record: HostTokenRecord) -> dict[str, object]:
    return {**record_values(record), "scopes": json.dumps(list(record.scopes))}


@functools.lru_cache(maxsize=256)
def _list_statement(
    groups: int | None, runner: bool, subject: bool, user: bool, after: bool
) -> sa.Select[Any]:
    r = t.runners
    stmt = sa.select(*_COLUMNS).join(r, r.c.id == h.c.runner_id)
    if groups is not None:
        visible = [r.c.creator_id == sa.bindparam("viewer")]
        if groups:
            visible += [
                policy_exists(groups, admin_only=True),
                sa.and_(
                    h.c.subject_id == sa.bindparam("viewer"),
                    policy_exists(groups, admin_only=False),
                ),
            ]
        stmt = stmt.where(sa.or_(*visible))
    if runner:
        stmt = stmt.where(h.c.runner_id == sa.bindparam("runner_id"))
    if subject:
        stmt = stmt.where(h.c.subject_id == sa.bindparam("subject_id"))
    if user:
        stmt = stmt.where(
            h.c.subject_id == sa.bindparam("user_id"), h.c.subject_principal == _PRINCIPAL_USER
        )
    if after:
        stmt = stmt.where(after_position(h))
    return stmt.order_by(h.c.created_at, h.c.id).limit(sa.bindparam("lim"))


@functools.lru_cache(maxsize=16)
def _delete_sources(count: int) -> sa.Delete:
    return h.delete().where(
        h.c.runner_id == sa.bindparam("runner_id"),
        h.c.host == sa.bindparam("host"),
        h.c.source.in_([sa.bindparam(f"s{i}") for i in range(count)]),
    )


def delete_tokens(tx: SQLTx, runner_id: str, host: str, sources: Sequence[int]) -> None:
    """Delete the runner+host's tokens of these sources (for SCM integration changes)."""
    if not sources:
        return
    params: dict[str, object] = {"runner_id": runner_id, "host": host}
    params.update({f"s{i}": source for i, source in enumerate(sources)})
    tx.execute(_delete_sources(len(sources)), params)


class HostTokensTx(SQLTx):
    """Host-token methods of a store transaction."""

    def insert_host_token(self, record: HostTokenRecord) -> None:
        """Insert a token.

        Raises:
            AlreadyExistsError: The (runner, host, subject) has one.
            InvalidArgumentError: ``integration_id`` names no integration of the same runner
                and host.
            NotFoundError: The runner does not exist.
        """
        message = f"a host authentication token for {record.host} exists already"
        if record.integration_id is not None and not self.first(
            _INTEGRATION_MATCHES,
            {
                "integration_id": record.integration_id,
                "runner_id": record.runner_id,
                "host": record.host,
            },
        ):
            raise InvalidArgumentError(
                "integration_id",
                f"no SCM integration {record.integration_id} of runner "
                f"{record.runner_id} for {record.host}",
            )
        if self.find_host_token(record.runner_id, record.host, record.subject_id) is not None:
            raise AlreadyExistsError(message)
        try:
            self.execute(_INSERT, _values(record))
        except self.integrity_error as exc:
            which = violated_constraint(exc, _UNIQUE_KEYS)
            if which == "uq_host_auth_tokens_runner_host_subject":  # lost a race to a twin
                raise AlreadyExistsError(message) from exc
            if which == "foreign_key":  # the runner (or the integration) went meanwhile
                raise NotFoundError(f"runner {record.runner_id} not found") from exc
            log_unexpected(exc, "insert_host_token")
            raise

    def get_host_token(self, token_id: str) -> HostTokenRecord | None:
        """A token, or None."""
        row = self.first(_BY_ID, {"id": token_id})
        return None if row is None else _record(row)

    def find_host_token(self, runner_id: str, host: str, subject_id: str) -> HostTokenRecord | None:
        """The subject's token for a runner and a normalised host (expired or not), or None.

        One look-up by the unique key (runner, host, subject).
        """
        row = self.first(_BY_KEY, {"runner_id": runner_id, "host": host, "subject_id": subject_id})
        return None if row is None else _record(row)

    def list_host_tokens(
        self, query: HostTokenQuery, after: tuple[int, str] | None, limit: int
    ) -> list[HostTokenRecord]:
        """Up to ``limit`` tokens after ``(created_at, id)``, in order."""
        viewer = query.viewer
        stmt = _list_statement(
            None if viewer is None else len(viewer.group_ids),
            query.runner_id is not None,
            query.subject_id is not None,
            query.user_id is not None,
            after is not None,
        )
        params: dict[str, object] = {
            "lim": limit,
            "runner_id": query.runner_id,
            "subject_id": query.subject_id,
            "user_id": query.user_id,
        }
        if viewer is not None:
            bind_viewer(params, viewer)
        bind_after(params, after)
        return [_record(row) for row in self.rows(stmt, params)]

    def update_host_token(
        self, token_id: str, change: Callable[[HostTokenRecord], HostTokenRecord | None]
    ) -> HostTokenRecord | None:
        """Apply ``change`` (None: no change) to the current row; None if the token is gone."""
        row = self.row_to_change(_BY_ID, _BY_ID_FOR_UPDATE, token_id)
        if row is None:
            return None
        current = _record(row)
        updated = change(current)
        if updated is None:
            return current
        self.update_by_id(_UPDATE, _values(updated))
        return updated

    def delete_host_token(self, token_id: str) -> bool:
        """Delete a token; False if it did not exist."""
        return self.execute(_DELETE, {"id": token_id}) > 0

    def has_unexpired_host_token(
        self, runner_id: str | None, host: str, subject_id: str, now: int
    ) -> bool:
        """Whether the subject holds an unexpired token for the host (on the runner, or any)."""
        params: dict[str, object] = {"host": host, "subject_id": subject_id, "now": now}
        if runner_id is None:
            return self.first(_HAS_UNEXPIRED_ANY, params) is not None
        params["runner_id"] = runner_id
        return self.first(_HAS_UNEXPIRED_ON, params) is not None

    def host_token_hosts(self, runner_id: str, subject_id: str, now: int) -> list[str]:
        """The hosts (sorted) for which the subject holds an unexpired token on the runner."""
        params = {"runner_id": runner_id, "subject_id": subject_id, "now": now}
        return [str(row[0]) for row in self.rows(_HOSTS, params)]
