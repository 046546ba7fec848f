"""Runner policies: a group's role on a runner (the store's policy aggregate).

A policy row repeats its runner's creation time (``runner_created_at``) for ListRunners'
keyset order (see ``queries.py``); it is copied from the runner when the policy is inserted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from runnerkit.server.domain.errors import AlreadyExistsError, NotFoundError
from runnerkit.server.storage import tables as t
from runnerkit.server.storage.records import PolicyRecord, row_reader
from runnerkit.server.storage.statements import SQLTx, log_unexpected, violated_constraint

if TYPE_CHECKING:
    from collections.abc import Sequence

p, r = t.runner_policies, t.runners
_KEY = (p.c.runner_id == sa.bindparam("runner_id"), p.c.group_id == sa.bindparam("group_id"))
_POLICY_COLUMNS = (p.c.runner_id, p.c.group_id, p.c.role)
_ONE = sa.select(*_POLICY_COLUMNS).where(*_KEY)
_PAGE_FIRST = (
    sa.select(*_POLICY_COLUMNS)
    .where(p.c.runner_id == sa.bindparam("runner_id"))
    .order_by(p.c.group_id)
    .limit(sa.bindparam("lim"))
)
_PAGE_AFTER = (
    sa.select(*_POLICY_COLUMNS)
    .where(p.c.runner_id == sa.bindparam("runner_id"), p.c.group_id > sa.bindparam("after"))
    .order_by(p.c.group_id)
    .limit(sa.bindparam("lim"))
)
_RUNNER_CREATED_AT = sa.select(r.c.created_at).where(r.c.id == sa.bindparam("runner_id"))
_INSERT = p.insert()
_UPDATE = (
    p.update()
    .where(p.c.runner_id == sa.bindparam("b_runner"), p.c.group_id == sa.bindparam("b_group"))
    .values(role=sa.bindparam("role"), updated_at=sa.bindparam("now"))
)
_DELETE = p.delete().where(*_KEY)
_read_policy = row_reader(PolicyRecord)
_UNIQUE_KEYS = {"runner_policies.runner_id, runner_policies.group_id": "runner_policies_pkey"}


class PoliciesTx(SQLTx):
    """Policy methods of a store transaction."""

    def roles_for(self, runner_id: str, group_ids: Sequence[str]) -> list[int]:
        """The roles that policies of the runner give any of these groups."""
        if not group_ids:
            return []
        params = {f"g{i}": group for i, group in enumerate(group_ids)}
        params["runner_id"] = runner_id
        return [int(row[0]) for row in self.rows(_roles_statement(len(group_ids)), params)]

    def get_policy(self, runner_id: str, group_id: str) -> PolicyRecord | None:
        """One policy, or None."""
        row = self.first(_ONE, {"runner_id": runner_id, "group_id": group_id})
        return None if row is None else _read_policy(row)

    def list_policies(self, runner_id: str, after: str | None, limit: int) -> list[PolicyRecord]:
        """Up to ``limit`` policies of a runner with group ids after ``after``, in order."""
        if after is None:
            rows = self.rows(_PAGE_FIRST, {"runner_id": runner_id, "lim": limit})
        else:
            rows = self.rows(_PAGE_AFTER, {"runner_id": runner_id, "after": after, "lim": limit})
        return [_read_policy(row) for row in rows]

    def insert_policy(self, policy: PolicyRecord, now: int) -> None:
        """Insert a policy.

        Raises:
            AlreadyExistsError: The group has a policy on the runner.
            NotFoundError: The runner does not exist.
        """
        runner = self.first(_RUNNER_CREATED_AT, {"runner_id": policy.runner_id})
        if runner is None:
            raise NotFoundError(f"runner {policy.runner_id} not found")
        message = f"group {policy.group_id} has a policy already"
        if self.first(_ONE, {"runner_id": policy.runner_id, "group_id": policy.group_id}):
            raise AlreadyExistsError(message)
        try:
            self.execute(
                _INSERT,
                {
                    "runner_id": policy.runner_id,
                    "group_id": policy.group_id,
                    "role": policy.role,
                    "created_at": now,
                    "updated_at": now,
                    "runner_created_at": runner[0],
                },
            )
        except self.integrity_error as exc:
            which = violated_constraint(exc, _UNIQUE_KEYS)
            if which == "runner_policies_pkey":  # lost a race to a twin
                raise AlreadyExistsError(message) from exc
            if which == "foreign_key":  # lost a race to DeleteRunner
                raise NotFoundError(f"runner {policy.runner_id} not found") from exc
            log_unexpected(exc, "insert_policy")
            raise

    def update_policy(self, policy: PolicyRecord, now: int) -> bool:
        """Change a policy's role; False if it does not exist."""
        params = {
            "b_runner": policy.runner_id,
            "b_group": policy.group_id,
            "role": policy.role,
            "now": now,
        }
        return self.execute(_UPDATE, params) > 0

    def delete_policy(self, runner_id: str, group_id: str) -> bool:
        """Delete a policy; False if it did not exist."""
        return self.execute(_DELETE, {"runner_id": runner_id, "group_id": group_id}) > 0


_ROLES: dict[int, sa.Select[tuple[int]]] = {}


def _roles_statement(groups: int) -> sa.Select[tuple[int]]:
    """``SELECT role ... group_id IN (g0, g1, ...)``, built once per number of groups."""
    stmt = _ROLES.get(groups)
    if stmt is None:
        stmt = sa.select(p.c.role).where(
            p.c.runner_id == sa.bindparam("runner_id"),
            p.c.group_id.in_([sa.bindparam(f"g{i}") for i in range(groups)]),
        )
        if len(_ROLES) < 256:
            _ROLES[groups] = stmt
    return stmt
