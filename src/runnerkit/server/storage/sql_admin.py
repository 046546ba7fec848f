"""Administration on the store: listing subjects, revoking bearer tokens, server metadata.

``runnerkit admin`` and the start-up checks (the master-key verifier in ``server_meta``) use
these; no RPC does.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from runnerkit.server.domain.errors import NotFoundError
from runnerkit.server.storage import tables as t
from runnerkit.server.storage.base import SubjectRecord
from runnerkit.server.storage.connections import WRITE_OPTION

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence


@dataclass(frozen=True)
class SubjectSummary:
    """A subject as ``runnerkit admin list-users`` shows it."""

    subject: SubjectRecord
    created_at: int
    token_count: int


class AdminSQLMixin:
    """Subjects listing, token revocation and ``server_meta`` values.

    Mixed into ``SQLStore`` (which sets ``_engine``). These are rare calls, so they use plain
    SQLAlchemy Core connections rather than the store's lean units of work.
    """

    _engine: sa.Engine

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})  # BEGIN IMMEDIATE on SQLite
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def list_subjects(self) -> list[SubjectSummary]:
        """Every subject (users and service accounts), oldest first, with its token count."""
        counts = (
            sa.select(t.api_tokens.c.subject_id, sa.func.count().label("n"))
            .group_by(t.api_tokens.c.subject_id)
            .subquery()
        )
        query = (
            sa.select(t.subjects, sa.func.coalesce(counts.c.n, 0).label("token_count"))
            .select_from(t.subjects.outerjoin(counts, counts.c.subject_id == t.subjects.c.id))
            .order_by(t.subjects.c.created_at, t.subjects.c.id)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            groups: dict[str, list[str]] = {}
            for subject_id, group_id in conn.execute(
                sa.select(t.subject_groups.c.subject_id, t.subject_groups.c.group_id)
            ):
                groups.setdefault(subject_id, []).append(group_id)
        return [
            SubjectSummary(
                subject=SubjectRecord(
                    id=row.id,
                    principal=row.principal,
                    name=row.name,
                    org_admin=bool(row.org_admin),
                    runner_creator=bool(row.runner_creator),
                    group_ids=frozenset(groups.get(row.id, ())),
                ),
                created_at=row.created_at,
                token_count=int(row.token_count),
            )
            for row in rows
        ]

    def revoke_api_token(self, token_hash: str) -> str | None:
        """Delete one bearer token (by hash); the id of its subject, or None if unknown."""
        with self._write() as conn:
            return conn.execute(
                t.api_tokens.delete()
                .where(t.api_tokens.c.token_hash == token_hash)
                .returning(t.api_tokens.c.subject_id)
            ).scalar_one_or_none()

    def revoke_subject_tokens(self, subject_id: str) -> int:
        """Delete every bearer token of a subject; how many (NotFoundError: no such subject)."""
        with self._write() as conn:
            exists = conn.execute(
                sa.select(t.subjects.c.id).where(t.subjects.c.id == subject_id)
            ).first()
            if exists is None:
                raise NotFoundError(f"subject {subject_id} not found")
            deleted: Sequence[object] = conn.execute(
                t.api_tokens.delete()
                .where(t.api_tokens.c.subject_id == subject_id)
                .returning(t.api_tokens.c.token_hash)
            ).all()
            return len(deleted)

    def get_meta(self, name: str) -> str | None:
        """A ``server_meta`` value, or None."""
        with self._read() as conn:
            return conn.execute(
                sa.select(t.server_meta.c.value).where(t.server_meta.c.name == name)
            ).scalar_one_or_none()

    def set_meta(self, name: str, value: str) -> None:
        """Store a ``server_meta`` value (replacing one of that name)."""
        with self._write() as conn:
            conn.execute(t.server_meta.delete().where(t.server_meta.c.name == name))
            conn.execute(t.server_meta.insert().values(name=name, value=value))

    def is_empty(self) -> bool:
        """Whether the store holds no subject and no runner (a database just created)."""
        with self._read() as conn:
            for table in (t.subjects, t.runners):
                if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                    return False
            return True

    def any_wrapped_private_key(self) -> bytes | None:
        """Some runner's master-key-wrapped private key (to test a key against), or None."""
        with self._read() as conn:
            value = conn.execute(
                sa.select(t.runners.c.wrapped_private_key).limit(1)
            ).scalar_one_or_none()
            return None if value is None else bytes(value)


__all__ = ["AdminSQLMixin", "SubjectSummary"]
