"""``ConfigStore`` on SQLAlchemy Core: a mixin of ``sql.SQLStore`` (SQLite and PostgreSQL).

Uses the store's ``_write()`` / ``_read()`` transactions. Unique keys — one SCM integration per
(runner, host), one host token per (runner, host, subject) — are checked in the transaction and
enforced by unique constraints, so a race loses with ``AlreadyExistsError`` too.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runnerkit.server.domain.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from runnerkit.server.storage import config_tables as ct
from runnerkit.server.storage import tables as t
from runnerkit.server.storage.config_records import (
    EnvironmentClassRecord,
    HostTokenRecord,
    SCMIntegrationRecord,
)
from runnerkit.server.storage.connections import SQLConnections
from runnerkit_proto.gitpod.v1 import identity_pb2, runner_pb2

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from runnerkit.server.storage.base import SubjectRecord
    from runnerkit.server.storage.config_records import (
        EnvironmentClassQuery,
        HostTokenQuery,
        SCMChange,
        SCMIntegrationQuery,
    )

_ROLE_ADMIN = runner_pb2.RUNNER_ROLE_ADMIN
_PRINCIPAL_USER = identity_pb2.PRINCIPAL_USER


def _class_from(row: sa.Row[Any]) -> EnvironmentClassRecord:
    pairs = json.loads(row.configuration)
    return EnvironmentClassRecord(
        id=row.id,
        runner_id=row.runner_id,
        display_name=row.display_name,
        description=row.description,
        configuration=tuple((str(k), str(v)) for k, v in pairs),
        enabled=bool(row.enabled),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _class_values(record: EnvironmentClassRecord) -> dict[str, object]:
    pairs = [list(pair) for pair in record.configuration]
    return {**dataclasses.asdict(record), "configuration": json.dumps(pairs)}


def _scm_from(row: sa.Row[Any]) -> SCMIntegrationRecord:
    return SCMIntegrationRecord(
        id=row.id,
        runner_id=row.runner_id,
        scm_id=row.scm_id,
        host=row.host,
        oauth_client_id=row.oauth_client_id,
        oauth_client_secret_sealed=bytes(row.oauth_client_secret_sealed),
        issuer_url=row.issuer_url,
        pat=bool(row.pat),
        virtual_directory=row.virtual_directory,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _scm_values(record: SCMIntegrationRecord) -> dict[str, object]:
    return dataclasses.asdict(record)


def _token_from(row: sa.Row[Any]) -> HostTokenRecord:
    return HostTokenRecord(
        id=row.id,
        runner_id=row.runner_id,
        host=row.host,
        subject_id=row.subject_id,
        subject_principal=row.subject_principal,
        source=row.source,
        token_sealed=bytes(row.token_sealed),
        refresh_token_sealed=bytes(row.refresh_token_sealed),
        expires_at=row.expires_at,
        integration_id=row.integration_id,
        scopes=tuple(json.loads(row.scopes)),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _token_values(record: HostTokenRecord) -> dict[str, object]:
    return {**dataclasses.asdict(record), "scopes": json.dumps(list(record.scopes))}


def _policy_exists(who: SubjectRecord, *, admin_only: bool) -> sa.ColumnElement[bool]:
    p = t.runner_policies
    stmt = sa.select(p.c.runner_id).where(
        p.c.runner_id == t.runners.c.id, p.c.group_id.in_(sorted(who.group_ids))
    )
    if admin_only:
        stmt = stmt.where(p.c.role == _ROLE_ADMIN)
    return stmt.exists()


def _may_use(who: SubjectRecord) -> sa.ColumnElement[bool]:
    """The runner (``t.runners`` in the query) is one ``who`` holds USER or ADMIN on."""
    return sa.or_(t.runners.c.creator_id == who.id, _policy_exists(who, admin_only=False))


def _after(table: sa.Table, after: tuple[int, str] | None) -> sa.ColumnElement[bool]:
    if after is None:
        return sa.true()
    return sa.tuple_(table.c.created_at, table.c.id) > sa.tuple_(*after)


def _for_update(conn: sa.Connection, stmt: sa.Select[Any]) -> sa.Select[Any]:
    return stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt


class ConfigSQLMixin(SQLConnections):
    """The ``ConfigStore`` methods of ``SQLStore``."""

    # environment classes

    def insert_environment_class(self, record: EnvironmentClassRecord) -> None:
        """Insert an environment class (NotFoundError if its runner is gone)."""
        try:
            with self._write() as conn:
                conn.execute(ct.environment_classes.insert().values(**_class_values(record)))
        except sa.exc.IntegrityError as exc:
            raise NotFoundError(f"runner {record.runner_id} not found") from exc

    def get_environment_class(self, class_id: str) -> EnvironmentClassRecord | None:
        """An environment class, or None."""
        ec = ct.environment_classes
        with self._read() as conn:
            row = conn.execute(sa.select(ec).where(ec.c.id == class_id)).first()
            return None if row is None else _class_from(row)

    def list_environment_classes(
        self, query: EnvironmentClassQuery, after: tuple[int, str] | None, limit: int
    ) -> list[EnvironmentClassRecord]:
        """Up to ``limit`` classes after ``(created_at, id)``, in order."""
        ec, r = ct.environment_classes, t.runners
        stmt = sa.select(ec).join(r, r.c.id == ec.c.runner_id)
        if query.viewer is not None:
            stmt = stmt.where(_may_use(query.viewer))
        if query.runner_ids:
            stmt = stmt.where(ec.c.runner_id.in_(list(query.runner_ids)))
        if query.runner_kinds:
            stmt = stmt.where(r.c.kind.in_(list(query.runner_kinds)))
        if query.runner_providers:
            stmt = stmt.where(r.c.provider.in_(list(query.runner_providers)))
        if query.enabled is not None:
            stmt = stmt.where(ec.c.enabled == query.enabled)
        stmt = stmt.where(_after(ec, after)).order_by(ec.c.created_at, ec.c.id).limit(limit)
        with self._read() as conn:
            return [_class_from(row) for row in conn.execute(stmt)]

    def update_environment_class(
        self,
        class_id: str,
        change: Callable[[EnvironmentClassRecord], EnvironmentClassRecord | None],
    ) -> EnvironmentClassRecord | None:
        """Apply ``change`` to the current row in one transaction."""
        ec = ct.environment_classes
        with self._write() as conn:
            row = conn.execute(_for_update(conn, sa.select(ec).where(ec.c.id == class_id))).first()
            if row is None:
                return None
            current = _class_from(row)
            updated = change(current)
            if updated is None:
                return current
            values = _class_values(updated)
            del values["id"]
            conn.execute(ec.update().where(ec.c.id == class_id).values(**values))
            return updated

    # SCM integrations

    def insert_scm_integration(self, record: SCMIntegrationRecord) -> None:
        """Insert an integration; AlreadyExistsError if the runner has one for the host."""
        s = ct.scm_integrations
        message = f"runner {record.runner_id} has an SCM integration for {record.host} already"
        try:
            with self._write() as conn:
                taken = conn.execute(
                    sa.select(s.c.id).where(
                        s.c.runner_id == record.runner_id, s.c.host == record.host
                    )
                ).first()
                if taken is not None:
                    raise AlreadyExistsError(message)
                conn.execute(s.insert().values(**_scm_values(record)))
        except sa.exc.IntegrityError as exc:  # lost a race: a twin, or the runner went
            if self._scm_for_host(record.runner_id, record.host) is None:
                raise NotFoundError(f"runner {record.runner_id} not found") from exc
            raise AlreadyExistsError(message) from exc

    def _scm_for_host(self, runner_id: str, host: str) -> SCMIntegrationRecord | None:
        """The runner's integration for a (normalised) host, or None."""
        s = ct.scm_integrations
        with self._read() as conn:
            row = conn.execute(
                sa.select(s).where(s.c.runner_id == runner_id, s.c.host == host)
            ).first()
            return None if row is None else _scm_from(row)

    def get_scm_integration(self, integration_id: str) -> SCMIntegrationRecord | None:
        """An integration, or None."""
        s = ct.scm_integrations
        with self._read() as conn:
            row = conn.execute(sa.select(s).where(s.c.id == integration_id)).first()
            return None if row is None else _scm_from(row)

    def list_scm_integrations(
        self, query: SCMIntegrationQuery, after: tuple[int, str] | None, limit: int
    ) -> list[SCMIntegrationRecord]:
        """Up to ``limit`` integrations after ``(created_at, id)``, in order."""
        s, r = ct.scm_integrations, t.runners
        stmt = sa.select(s).join(r, r.c.id == s.c.runner_id)
        if query.viewer is not None:
            stmt = stmt.where(_may_use(query.viewer))
        if query.runner_ids:
            stmt = stmt.where(s.c.runner_id.in_(list(query.runner_ids)))
        stmt = stmt.where(_after(s, after)).order_by(s.c.created_at, s.c.id).limit(limit)
        with self._read() as conn:
            return [_scm_from(row) for row in conn.execute(stmt)]

    def scm_integrations_of_runner(self, runner_id: str) -> list[SCMIntegrationRecord]:
        """All integrations of a runner, in creation order."""
        s = ct.scm_integrations
        stmt = sa.select(s).where(s.c.runner_id == runner_id).order_by(s.c.created_at, s.c.id)
        with self._read() as conn:
            return [_scm_from(row) for row in conn.execute(stmt)]

    def update_scm_integration(
        self,
        integration_id: str,
        change: Callable[[SCMIntegrationRecord], SCMChange | None],
    ) -> SCMIntegrationRecord | None:
        """Apply ``change`` and delete the tokens it names, in one transaction."""
        s = ct.scm_integrations
        with self._write() as conn:
            stmt = sa.select(s).where(s.c.id == integration_id)
            row = conn.execute(_for_update(conn, stmt)).first()
            if row is None:
                return None
            current = _scm_from(row)
            result = change(current)
            if result is None:
                return current
            updated, sources = result
            values = _scm_values(updated)
            del values["id"]
            conn.execute(s.update().where(s.c.id == integration_id).values(**values))
            _delete_tokens(conn, current.runner_id, current.host, sources)
            return updated

    def delete_scm_integration(self, integration_id: str, token_sources: Sequence[int]) -> bool:
        """Delete an integration and its runner+host's tokens of these sources."""
        s = ct.scm_integrations
        with self._write() as conn:
            row = conn.execute(sa.select(s).where(s.c.id == integration_id)).first()
            if row is None:
                return False
            _delete_tokens(conn, row.runner_id, row.host, token_sources)
            conn.execute(s.delete().where(s.c.id == integration_id))
            return True

    # host authentication tokens

    def insert_host_token(self, record: HostTokenRecord) -> None:
        """Insert a token (see ``ConfigStore.insert_host_token``)."""
        h, s = ct.host_tokens, ct.scm_integrations
        message = f"a host authentication token for {record.host} exists already"
        try:
            with self._write() as conn:
                if record.integration_id is not None:
                    match = conn.execute(
                        sa.select(s.c.id).where(
                            s.c.id == record.integration_id,
                            s.c.runner_id == record.runner_id,
                            s.c.host == record.host,
                        )
                    ).first()
                    if match is None:
                        raise InvalidArgumentError(
                            "integration_id",
                            f"no SCM integration {record.integration_id} of runner "
                            f"{record.runner_id} for {record.host}",
                        )
                taken = conn.execute(
                    sa.select(h.c.id).where(
                        h.c.runner_id == record.runner_id,
                        h.c.host == record.host,
                        h.c.subject_id == record.subject_id,
                    )
                ).first()
                if taken is not None:
                    raise AlreadyExistsError(message)
                conn.execute(h.insert().values(**_token_values(record)))
        except sa.exc.IntegrityError as exc:  # lost a race: a twin, or the runner went
            with self._read() as conn:
                twin = conn.execute(
                    sa.select(h.c.id).where(
                        h.c.runner_id == record.runner_id,
                        h.c.host == record.host,
                        h.c.subject_id == record.subject_id,
                    )
                ).first()
            if twin is None:
                raise NotFoundError(f"runner {record.runner_id} not found") from exc
            raise AlreadyExistsError(message) from exc

    def get_host_token(self, token_id: str) -> HostTokenRecord | None:
        """A token, or None."""
        h = ct.host_tokens
        with self._read() as conn:
            row = conn.execute(sa.select(h).where(h.c.id == token_id)).first()
            return None if row is None else _token_from(row)

    def list_host_tokens(
        self, query: HostTokenQuery, after: tuple[int, str] | None, limit: int
    ) -> list[HostTokenRecord]:
        """Up to ``limit`` tokens after ``(created_at, id)``, in order."""
        h, r = ct.host_tokens, t.runners
        stmt = sa.select(h).join(r, r.c.id == h.c.runner_id)
        who = query.viewer
        if who is not None:
            stmt = stmt.where(
                sa.or_(
                    r.c.creator_id == who.id,
                    _policy_exists(who, admin_only=True),
                    sa.and_(h.c.subject_id == who.id, _policy_exists(who, admin_only=False)),
                )
            )
        if query.runner_id is not None:
            stmt = stmt.where(h.c.runner_id == query.runner_id)
        if query.subject_id is not None:
            stmt = stmt.where(h.c.subject_id == query.subject_id)
        if query.user_id is not None:
            stmt = stmt.where(
                h.c.subject_id == query.user_id, h.c.subject_principal == _PRINCIPAL_USER
            )
        stmt = stmt.where(_after(h, after)).order_by(h.c.created_at, h.c.id).limit(limit)
        with self._read() as conn:
            return [_token_from(row) for row in conn.execute(stmt)]

    def update_host_token(
        self, token_id: str, change: Callable[[HostTokenRecord], HostTokenRecord | None]
    ) -> HostTokenRecord | None:
        """Apply ``change`` to the current row in one transaction."""
        h = ct.host_tokens
        with self._write() as conn:
            row = conn.execute(_for_update(conn, sa.select(h).where(h.c.id == token_id))).first()
            if row is None:
                return None
            current = _token_from(row)
            updated = change(current)
            if updated is None:
                return current
            values = _token_values(updated)
            del values["id"]
            conn.execute(h.update().where(h.c.id == token_id).values(**values))
            return updated

    def delete_host_token(self, token_id: str) -> bool:
        """Delete a token; False if it did not exist."""
        h = ct.host_tokens
        with self._write() as conn:
            return conn.execute(h.delete().where(h.c.id == token_id)).rowcount > 0

    def has_unexpired_host_token(
        self, runner_id: str | None, host: str, subject_id: str, now: int
    ) -> bool:
        """Whether the subject holds an unexpired token for the host (on the runner, or any)."""
        h = ct.host_tokens
        stmt = sa.select(h.c.id).where(
            h.c.host == host,
            h.c.subject_id == subject_id,
            sa.or_(h.c.expires_at.is_(None), h.c.expires_at > now),
        )
        if runner_id is not None:
            stmt = stmt.where(h.c.runner_id == runner_id)
        with self._read() as conn:
            return conn.execute(stmt.limit(1)).first() is not None

    def host_token_hosts(self, runner_id: str, subject_id: str, now: int) -> list[str]:
        """The hosts (sorted) for which the subject holds an unexpired token on the runner."""
        h = ct.host_tokens
        stmt = (
            sa.select(h.c.host)
            .where(
                h.c.runner_id == runner_id,
                h.c.subject_id == subject_id,
                sa.or_(h.c.expires_at.is_(None), h.c.expires_at > now),
            )
            .distinct()
            .order_by(h.c.host)
        )
        with self._read() as conn:
            return list(conn.execute(stmt).scalars())


def _delete_tokens(conn: sa.Connection, runner_id: str, host: str, sources: Sequence[int]) -> None:
    if not sources:
        return
    h = ct.host_tokens
    conn.execute(
        h.delete().where(
            h.c.runner_id == runner_id, h.c.host == host, h.c.source.in_(list(sources))
        )
    )
