"""Subjects, their groups and their bearer tokens (by hash): the store's identity aggregate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from runnerkit.server.domain.errors import AlreadyExistsError, NotFoundError
from runnerkit.server.storage import tables as t
from runnerkit.server.storage.records import SubjectRecord
from runnerkit.server.storage.statements import SQLTx, log_unexpected, violated_constraint

if TYPE_CHECKING:
    from collections.abc import Sequence

s, g, a = t.subjects, t.subject_groups, t.api_tokens
_COUNT = sa.select(sa.func.count()).select_from(s)
_SUBJECT_COLUMNS = (s.c.id, s.c.principal, s.c.name, s.c.org_admin, s.c.runner_creator)
_BY_ID = sa.select(*_SUBJECT_COLUMNS).where(s.c.id == sa.bindparam("id"))
_GROUPS = sa.select(g.c.group_id).where(g.c.subject_id == sa.bindparam("id"))
# Token -> subject with its groups in one statement: one row per group (or one with NULL).
_BY_TOKEN = (
    sa.select(*_SUBJECT_COLUMNS, g.c.group_id)
    .select_from(a.join(s, s.c.id == a.c.subject_id).outerjoin(g, g.c.subject_id == s.c.id))
    .where(a.c.token_hash == sa.bindparam("token_hash"))
)
_INSERT = s.insert()
_INSERT_GROUP = g.insert()
_INSERT_TOKEN = a.insert()
# SQLite's description of a unique key that failed -> the constraint's name.
_UNIQUE_KEYS = {
    "subjects.id": "subjects_pkey",
    "api_tokens.token_hash": "api_tokens_pkey",
    "subject_groups.subject_id, subject_groups.group_id": "subject_groups_pkey",
}


def _subject(row: Sequence[object], groups: Sequence[str]) -> SubjectRecord:
    return SubjectRecord(
        id=str(row[0]),
        principal=int(row[1]),  # type: ignore[call-overload]
        name=str(row[2]),
        org_admin=bool(row[3]),
        runner_creator=bool(row[4]),
        group_ids=frozenset(groups),
    )


class SubjectsTx(SQLTx):
    """Subject methods of a store transaction."""

    def count_subjects(self) -> int:
        """Number of subjects."""
        row = self.first(_COUNT)
        return int(row[0]) if row else 0

    def create_subject(self, subject: SubjectRecord, token_hashes: Sequence[str], now: int) -> None:
        """Insert a subject, its group memberships and bearer tokens (by hash).

        Raises:
            AlreadyExistsError: The subject id or a token hash is taken.
        """
        try:
            self.execute(
                _INSERT,
                {
                    "id": subject.id,
                    "principal": subject.principal,
                    "name": subject.name,
                    "org_admin": subject.org_admin,
                    "runner_creator": subject.runner_creator,
                    "created_at": now,
                },
            )
            self.execute_many(
                _INSERT_GROUP,
                [{"subject_id": subject.id, "group_id": gid} for gid in sorted(subject.group_ids)],
            )
            self.execute_many(
                _INSERT_TOKEN,
                [
                    {"token_hash": h, "subject_id": subject.id, "created_at": now}
                    for h in token_hashes
                ],
            )
        except self.integrity_error as exc:
            raise self._subject_conflict(exc, "create_subject") from exc

    def _subject_conflict(self, exc: BaseException, where: str) -> BaseException:
        which = violated_constraint(exc, _UNIQUE_KEYS)
        if which == "subjects_pkey":
            return AlreadyExistsError("the subject exists already")
        if which == "api_tokens_pkey":
            return AlreadyExistsError("the token exists already")
        log_unexpected(exc, where)
        return exc

    def get_subject(self, subject_id: str) -> SubjectRecord | None:
        """A subject with its groups, or None."""
        row = self.first(_BY_ID, {"id": subject_id})
        if row is None:
            return None
        return _subject(row, [str(r[0]) for r in self.rows(_GROUPS, {"id": subject_id})])

    def add_api_token(self, subject_id: str, token_hash: str, now: int) -> None:
        """Give a subject another bearer token (NotFoundError for an unknown subject)."""
        if self.first(_BY_ID, {"id": subject_id}) is None:
            raise NotFoundError(f"subject {subject_id} not found")
        try:
            self.execute(
                _INSERT_TOKEN,
                {"token_hash": token_hash, "subject_id": subject_id, "created_at": now},
            )
        except self.integrity_error as exc:
            raise self._subject_conflict(exc, "add_api_token") from exc

    def add_group_membership(self, subject_id: str, group_id: str) -> None:
        """Add a subject to a group (idempotent; NotFoundError for an unknown subject)."""
        subject = self.get_subject(subject_id)
        if subject is None:
            raise NotFoundError(f"subject {subject_id} not found")
        if group_id not in subject.group_ids:
            self.execute(_INSERT_GROUP, {"subject_id": subject_id, "group_id": group_id})

    def subject_for_token(self, token_hash: str) -> SubjectRecord | None:
        """The subject a bearer token (by hash) belongs to, or None (one statement)."""
        rows = self.rows(_BY_TOKEN, {"token_hash": token_hash})
        if not rows:
            return None
        return _subject(rows[0], [str(r[5]) for r in rows if r[5] is not None])
