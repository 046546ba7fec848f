"""The store on SQLAlchemy Core 2: one implementation for SQLite and PostgreSQL.

Engines (SQLite pragmas, the PostgreSQL pool) and migrations live in ``storage/engine.py``.
Each method is one transaction (READ COMMITTED on PostgreSQL); unique indexes settle races.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runnerkit.server.domain.errors import AlreadyExistsError, NotFoundError
from runnerkit.server.storage import tables as t
from runnerkit.server.storage.base import (
    PolicyRecord,
    RunnerQuery,
    RunnerRecord,
    RunnerTokenRecord,
    SubjectRecord,
)
from runnerkit.server.storage.queries import merge_ordered, runner_branches
from runnerkit.server.storage.sql_admin import AdminSQLMixin
from runnerkit.server.storage.sql_config import ConfigSQLMixin

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

_KIND_LOCAL_CONFIGURATION = 3


def _subject_from(row: sa.Row[Any], groups: Sequence[str]) -> SubjectRecord:
    return SubjectRecord(
        id=row.id,
        principal=row.principal,
        name=row.name,
        org_admin=bool(row.org_admin),
        runner_creator=bool(row.runner_creator),
        group_ids=frozenset(groups),
    )


def _runner_from(row: sa.Row[Any]) -> RunnerRecord:
    return RunnerRecord(
        id=row.id,
        name=row.name,
        kind=row.kind,
        provider=row.provider,
        runner_manager_id=row.runner_manager_id,
        creator_id=row.creator_id,
        creator_principal=row.creator_principal,
        spec=bytes(row.spec),
        status=bytes(row.status),
        public_key=bytes(row.public_key),
        wrapped_private_key=bytes(row.wrapped_private_key),
        metrics_password_sealed=bytes(row.metrics_password_sealed),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _runner_values(runner: RunnerRecord) -> dict[str, object]:
    return {
        "id": runner.id,
        "name": runner.name,
        "kind": runner.kind,
        "provider": runner.provider,
        "runner_manager_id": runner.runner_manager_id,
        "creator_id": runner.creator_id,
        "creator_principal": runner.creator_principal,
        "spec": runner.spec,
        "status": runner.status,
        "public_key": runner.public_key,
        "wrapped_private_key": runner.wrapped_private_key,
        "metrics_password_sealed": runner.metrics_password_sealed,
        "created_at": runner.created_at,
        "updated_at": runner.updated_at,
    }


class SQLStore(AdminSQLMixin, ConfigSQLMixin):
    """``Store`` on a SQLAlchemy engine (SQLite or PostgreSQL)."""

    # subjects and API tokens

    def count_subjects(self) -> int:
        """Number of subjects."""
        with self._read() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(t.subjects)).scalar_one()
            )

    def create_subject(self, subject: SubjectRecord, token_hashes: Sequence[str], now: int) -> None:
        """Insert a subject, its group memberships and bearer tokens (by hash)."""
        with self._write() as conn:
            conn.execute(
                t.subjects.insert().values(
                    id=subject.id,
                    principal=subject.principal,
                    name=subject.name,
                    org_admin=subject.org_admin,
                    runner_creator=subject.runner_creator,
                    created_at=now,
                )
            )
            for group_id in sorted(subject.group_ids):
                conn.execute(
                    t.subject_groups.insert().values(subject_id=subject.id, group_id=group_id)
                )
            for token_hash in token_hashes:
                conn.execute(
                    t.api_tokens.insert().values(
                        token_hash=token_hash, subject_id=subject.id, created_at=now
                    )
                )

    def _subject(self, conn: sa.Connection, subject_id: str) -> SubjectRecord | None:
        row = conn.execute(sa.select(t.subjects).where(t.subjects.c.id == subject_id)).first()
        if row is None:
            return None
        groups = conn.execute(
            sa.select(t.subject_groups.c.group_id).where(
                t.subject_groups.c.subject_id == subject_id
            )
        ).scalars()
        return _subject_from(row, list(groups))

    def get_subject(self, subject_id: str) -> SubjectRecord | None:
        """A subject with its groups, or None."""
        with self._read() as conn:
            return self._subject(conn, subject_id)

    def add_api_token(self, subject_id: str, token_hash: str, now: int) -> None:
        """Give a subject another bearer token."""
        with self._write() as conn:
            if self._subject(conn, subject_id) is None:
                raise NotFoundError(f"subject {subject_id} not found")
            conn.execute(
                t.api_tokens.insert().values(
                    token_hash=token_hash, subject_id=subject_id, created_at=now
                )
            )

    def add_group_membership(self, subject_id: str, group_id: str) -> None:
        """Add a subject to a group (idempotent)."""
        with self._write() as conn:
            subject = self._subject(conn, subject_id)
            if subject is None:
                raise NotFoundError(f"subject {subject_id} not found")
            if group_id not in subject.group_ids:
                conn.execute(
                    t.subject_groups.insert().values(subject_id=subject_id, group_id=group_id)
                )

    def subject_for_token(self, token_hash: str) -> SubjectRecord | None:
        """The subject a bearer token (by hash) belongs to, or None."""
        with self._read() as conn:
            subject_id = conn.execute(
                sa.select(t.api_tokens.c.subject_id).where(t.api_tokens.c.token_hash == token_hash)
            ).scalar_one_or_none()
            return None if subject_id is None else self._subject(conn, subject_id)

    # runners

    def insert_runner(self, runner: RunnerRecord, tokens: Sequence[RunnerTokenRecord]) -> None:
        """Insert a runner with its first tokens."""
        try:
            with self._write() as conn:
                if runner.kind == _KIND_LOCAL_CONFIGURATION:
                    taken = conn.execute(
                        sa.select(t.runners.c.id).where(t.runners.c.kind == runner.kind).limit(1)
                    ).first()
                    if taken is not None:
                        raise AlreadyExistsError("a LOCAL_CONFIGURATION runner exists already")
                conn.execute(t.runners.insert().values(**_runner_values(runner)))
                for token in tokens:
                    conn.execute(t.runner_tokens.insert().values(**_token_values(token)))
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError("a LOCAL_CONFIGURATION runner exists already") from exc

    def get_runner(self, runner_id: str) -> RunnerRecord | None:
        """A runner, or None."""
        with self._read() as conn:
            row = conn.execute(sa.select(t.runners).where(t.runners.c.id == runner_id)).first()
            return None if row is None else _runner_from(row)

    def list_runners(
        self, query: RunnerQuery, after: tuple[int, str] | None, limit: int
    ) -> list[RunnerRecord]:
        """Up to ``limit`` runners after the keyset position ``(created_at, id)``, in order."""
        branches = runner_branches(query, after, limit)
        with self._read() as conn:
            results = [conn.execute(branch).all() for branch in branches]
        rows = results[0] if len(results) == 1 else merge_ordered(results, limit)
        return [_runner_from(row) for row in rows]

    def update_runner(
        self, runner_id: str, change: Callable[[RunnerRecord], RunnerRecord | None]
    ) -> RunnerRecord | None:
        """Apply ``change`` to the current row in one transaction."""
        with self._write() as conn:
            stmt = sa.select(t.runners).where(t.runners.c.id == runner_id)
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update()
            row = conn.execute(stmt).first()
            if row is None:
                return None
            current = _runner_from(row)
            updated = change(current)
            if updated is None:
                return current
            values = _runner_values(updated)
            del values["id"]
            conn.execute(t.runners.update().where(t.runners.c.id == runner_id).values(**values))
            return updated

    def delete_runner(self, runner_id: str) -> bool:
        """Delete a runner and everything it owns (foreign keys cascade as well)."""
        with self._write() as conn:
            for owned in (t.runner_policies, t.runner_tokens):
                conn.execute(owned.delete().where(owned.c.runner_id == runner_id))
            deleted = conn.execute(t.runners.delete().where(t.runners.c.id == runner_id))
            return deleted.rowcount > 0

    # runner tokens

    def insert_runner_token(self, token: RunnerTokenRecord) -> None:
        """Store a runner token (by hash)."""
        with self._write() as conn:
            conn.execute(t.runner_tokens.insert().values(**_token_values(token)))

    def redeem_runner_token(self, token_hash: str, purpose: str, now: int) -> str | None:
        """Use a single-use token: the runner id if it was valid, unused and unexpired."""
        tok = t.runner_tokens
        with self._write() as conn:
            row = conn.execute(
                sa.select(tok.c.runner_id)
                .where(tok.c.token_hash == token_hash, tok.c.purpose == purpose)
                .where(tok.c.used_at.is_(None), tok.c.expires_at > now)
            ).first()
            if row is None:
                return None
            conn.execute(tok.update().where(tok.c.token_hash == token_hash).values(used_at=now))
            return str(row.runner_id)

    # policies

    def roles_for(self, runner_id: str, group_ids: Sequence[str]) -> list[int]:
        """The roles that policies of the runner give any of these groups."""
        if not group_ids:
            return []
        p = t.runner_policies
        with self._read() as conn:
            rows = conn.execute(
                sa.select(p.c.role).where(
                    p.c.runner_id == runner_id, p.c.group_id.in_(list(group_ids))
                )
            )
            return [int(role) for role in rows.scalars()]

    def get_policy(self, runner_id: str, group_id: str) -> PolicyRecord | None:
        """One policy, or None."""
        p = t.runner_policies
        with self._read() as conn:
            row = conn.execute(
                sa.select(p).where(p.c.runner_id == runner_id, p.c.group_id == group_id)
            ).first()
            return None if row is None else PolicyRecord(row.runner_id, row.group_id, row.role)

    def list_policies(self, runner_id: str, after: str | None, limit: int) -> list[PolicyRecord]:
        """Up to ``limit`` policies of a runner with group ids after ``after``, in order."""
        p = t.runner_policies
        stmt = sa.select(p).where(p.c.runner_id == runner_id)
        if after is not None:
            stmt = stmt.where(p.c.group_id > after)
        stmt = stmt.order_by(p.c.group_id).limit(limit)
        with self._read() as conn:
            return [
                PolicyRecord(row.runner_id, row.group_id, row.role) for row in conn.execute(stmt)
            ]

    def insert_policy(self, policy: PolicyRecord, now: int) -> None:
        """Insert a policy; AlreadyExistsError if the group has one on the runner."""
        p = t.runner_policies
        try:
            with self._write() as conn:
                existing = conn.execute(
                    sa.select(p.c.role).where(
                        p.c.runner_id == policy.runner_id, p.c.group_id == policy.group_id
                    )
                ).first()
                if existing is not None:
                    raise AlreadyExistsError(f"group {policy.group_id} has a policy already")
                conn.execute(
                    p.insert().values(
                        runner_id=policy.runner_id,
                        group_id=policy.group_id,
                        role=policy.role,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(f"group {policy.group_id} has a policy already") from exc

    def update_policy(self, policy: PolicyRecord, now: int) -> bool:
        """Change a policy's role; False if it does not exist."""
        p = t.runner_policies
        with self._write() as conn:
            result = conn.execute(
                p.update()
                .where(p.c.runner_id == policy.runner_id, p.c.group_id == policy.group_id)
                .values(role=policy.role, updated_at=now)
            )
            return result.rowcount > 0

    def delete_policy(self, runner_id: str, group_id: str) -> bool:
        """Delete a policy; False if it did not exist."""
        p = t.runner_policies
        with self._write() as conn:
            result = conn.execute(
                p.delete().where(p.c.runner_id == runner_id, p.c.group_id == group_id)
            )
            return result.rowcount > 0


def _token_values(token: RunnerTokenRecord) -> dict[str, object]:
    return {
        "token_hash": token.token_hash,
        "runner_id": token.runner_id,
        "purpose": token.purpose,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
    }
