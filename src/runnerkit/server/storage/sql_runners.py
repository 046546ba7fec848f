"""Runners and their single-use tokens (by hash): the store's runner aggregate."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runnerkit.server.domain.errors import AlreadyExistsError, NotFoundError
from runnerkit.server.storage import tables as t
from runnerkit.server.storage.queries import RUNNER_COLUMNS, merge_page, read_runner, runner_page
from runnerkit.server.storage.statements import (
    SQLTx,
    log_unexpected,
    violated_constraint,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from runnerkit.server.storage.records import RunnerQuery, RunnerRecord, RunnerTokenRecord

r, tok = t.runners, t.runner_tokens
_BY_ID = sa.select(*RUNNER_COLUMNS).where(r.c.id == sa.bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_LOCAL_CONFIGURATION_TAKEN = (
    sa.select(r.c.id).where(r.c.kind == t.KIND_LOCAL_CONFIGURATION).limit(1)
)
_INSERT = r.insert()
_UPDATE = (
    r.update()
    .where(r.c.id == sa.bindparam("b_id"))
    .values({c.name: sa.bindparam(c.name) for c in RUNNER_COLUMNS if c.name != "id"})
)
_DELETE = r.delete().where(r.c.id == sa.bindparam("id"))
_INSERT_TOKEN = tok.insert().values(
    token_hash=sa.bindparam("token_hash"),
    runner_id=sa.bindparam("runner_id"),
    purpose=sa.bindparam("purpose"),
    created_at=sa.bindparam("created_at"),
    expires_at=sa.bindparam("expires_at"),
)
_REDEEMABLE = sa.select(tok.c.runner_id).where(
    tok.c.token_hash == sa.bindparam("token_hash"),
    tok.c.purpose == sa.bindparam("purpose"),
    tok.c.used_at.is_(None),
    tok.c.expires_at > sa.bindparam("now"),
)
_REDEEM = (
    tok.update()
    .where(tok.c.token_hash == sa.bindparam("b_hash"))
    .values(used_at=sa.bindparam("now"))
)
_LOCAL_CONFIGURATION_TAKEN_MESSAGE = "a LOCAL_CONFIGURATION runner exists already"
_UNIQUE_KEYS = {
    "runners.id": "runners_pkey",
    "runners.kind": "uq_runners_local_configuration",
    "runner_tokens.token_hash": "runner_tokens_pkey",
}


def _token_values(token: RunnerTokenRecord) -> dict[str, object]:
    return {
        "token_hash": token.token_hash,
        "runner_id": token.runner_id,
        "purpose": token.purpose,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
    }


class RunnersTx(SQLTx):
    """Runner methods of a store transaction."""

    def insert_runner(self, runner: RunnerRecord, tokens: Sequence[RunnerTokenRecord]) -> None:
        """Insert a runner with its first tokens.

        Raises:
            AlreadyExistsError: A LOCAL_CONFIGURATION runner exists already, or the id is taken.
        """
        if (
            runner.kind == t.KIND_LOCAL_CONFIGURATION
            and self.first(_LOCAL_CONFIGURATION_TAKEN) is not None
        ):
            raise AlreadyExistsError(_LOCAL_CONFIGURATION_TAKEN_MESSAGE)
        try:
            self.execute(_INSERT, runner._asdict())
            self.execute_many(_INSERT_TOKEN, [_token_values(token) for token in tokens])
        except self.integrity_error as exc:
            which = violated_constraint(exc, _UNIQUE_KEYS)
            if which == "uq_runners_local_configuration":  # lost a race to a twin
                raise AlreadyExistsError(_LOCAL_CONFIGURATION_TAKEN_MESSAGE) from exc
            if which == "runners_pkey":
                raise AlreadyExistsError(f"runner {runner.id} exists already") from exc
            log_unexpected(exc, "insert_runner")
            raise

    def get_runner(self, runner_id: str) -> RunnerRecord | None:
        """A runner, or None."""
        row = self.first(_BY_ID, {"id": runner_id})
        return None if row is None else read_runner(row)

    def get_runner_with_roles(
        self, runner_id: str, group_ids: Sequence[str]
    ) -> tuple[RunnerRecord | None, list[int]]:
        """A runner (or None) and the roles its policies give any of ``group_ids``.

        One statement (the runner left-joined to those groups' policies), so the two come
        from one snapshot without a transaction around them.
        """
        if not group_ids:
            return self.get_runner(runner_id), []
        params = {f"g{i}": group for i, group in enumerate(group_ids)}
        params["id"] = runner_id
        rows = self.rows(_with_roles_statement(len(group_ids)), params)
        if not rows:
            return None, []
        roles = [int(row[-1]) for row in rows if row[-1] is not None]
        return read_runner(rows[0][:-1]), roles

    def list_runners(
        self, query: RunnerQuery, after: tuple[int, str] | None, limit: int
    ) -> list[RunnerRecord]:
        """Up to ``limit`` runners after the keyset position ``(created_at, id)``, in order."""
        stmt, params, single = runner_page(query, after, limit)
        rows = self.rows(stmt, params)
        if single:  # read in order from one index, limited: the page as it is
            return list(map(read_runner, rows))
        return merge_page(rows, limit)

    def update_runner(
        self, runner_id: str, change: Callable[[RunnerRecord], RunnerRecord | None]
    ) -> RunnerRecord | None:
        """Apply ``change`` to the current row (locked on PostgreSQL).

        ``change`` returns the new row, or None when nothing changes. Returns the row as it is
        afterwards, or None when the runner does not exist.
        """
        row = self.row_to_change(_BY_ID, _BY_ID_FOR_UPDATE, runner_id)
        if row is None:
            return None
        current = read_runner(row)
        updated = change(current)
        if updated is None:
            return current
        self.update_by_id(_UPDATE, updated._asdict())
        return updated

    def delete_runner(self, runner_id: str) -> bool:
        """Delete a runner and everything it owns (foreign keys cascade); False if absent."""
        return self.execute(_DELETE, {"id": runner_id}) > 0

    def insert_runner_token(self, token: RunnerTokenRecord) -> None:
        """Store a runner token (by hash); NotFoundError if the runner is gone."""
        try:
            self.execute(_INSERT_TOKEN, _token_values(token))
        except self.integrity_error as exc:
            which = violated_constraint(exc, _UNIQUE_KEYS)
            if which == "foreign_key":
                raise NotFoundError(f"runner {token.runner_id} not found") from exc
            log_unexpected(exc, "insert_runner_token")
            raise

    def redeem_runner_token(self, token_hash: str, purpose: str, now: int) -> str | None:
        """Use a single-use token: the runner id if it was valid, unused and unexpired."""
        params = {"token_hash": token_hash, "purpose": purpose, "now": now}
        row = self.first(_REDEEMABLE, params)
        if row is None:
            return None
        self.execute(_REDEEM, {"b_hash": token_hash, "now": now})
        return str(row[0])


@functools.lru_cache(maxsize=256)
def _with_roles_statement(groups: int) -> sa.Select[Any]:
    """The runner ``:id`` with the roles of groups ``:g0``... (a row per role, or one NULL)."""
    p = t.runner_policies
    on = sa.and_(
        p.c.runner_id == r.c.id, p.c.group_id.in_([sa.bindparam(f"g{i}") for i in range(groups)])
    )
    return (
        sa.select(*RUNNER_COLUMNS, p.c.role)
        .select_from(r.outerjoin(p, on))
        .where(r.c.id == sa.bindparam("id"))
    )
