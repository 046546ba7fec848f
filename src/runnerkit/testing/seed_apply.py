"""Create a checked seed in a store, through the server's own operations, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from runnerkit.server.bootstrap import create_subject
from runnerkit.server.domain.errors import DomainError
from runnerkit.server.service import (
    environment_classes,
    host_tokens,
    policies,
    runners,
    scm_integrations,
)
from runnerkit.server.storage.connections import WRITE_OPTION
from runnerkit.server.testapi import StoreState, set_runner_status
from runnerkit.server.testapi.state import SERVER_TABLES, engine_of
from runnerkit.testing.seed import ADMIN, SeededSubject, SeedError, domain_error
from runnerkit_proto.gitpod.v1 import identity_pb2

if TYPE_CHECKING:
    from collections.abc import Callable

    from google.protobuf.message import Message

    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import SubjectRecord
    from runnerkit.testing.seed import Seed

# Tables of identities: kept for the admin when a store is emptied for a seed.
_IDENTITY_TABLES = ("subjects", "api_tokens", "subject_groups")
_OPERATIONS: dict[str, Callable[..., object]] = {
    "policies": policies.create_runner_policy,
    "environment_classes": environment_classes.create_environment_class,
    "scm_integrations": scm_integrations.create_scm_integration,
    "host_tokens": host_tokens.create_host_authentication_token,
}


@dataclass
class SeedResult:
    """What a seed created.

    Attributes:
        subjects: Users and service accounts by name: id and bearer token.
        runner_ids: Runner ids in the seed's order.
        runners_by_name: Runner ids by runner name (the last one wins for repeated names).
    """

    subjects: dict[str, SeededSubject] = field(default_factory=dict)
    runner_ids: list[str] = field(default_factory=list)
    runners_by_name: dict[str, str] = field(default_factory=dict)


def store_has_data(state: StoreState) -> bool:
    """Whether the store holds more than one admin: runners, configuration or more subjects."""
    counts = state.row_counts()
    others = any(n for name, n in counts.items() if name not in _IDENTITY_TABLES)
    return others or counts.get("subjects", 0) > 1


def empty_store(engine: sa.Engine, keep_subject: str) -> None:
    """Delete every row except the identity of ``keep_subject`` (one transaction)."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            for table in reversed(metadata.sorted_tables):
                if table.name in SERVER_TABLES:
                    continue
                if table.name == "subjects":
                    conn.execute(table.delete().where(table.c.id != keep_subject))
                elif table.name in _IDENTITY_TABLES:
                    conn.execute(table.delete().where(table.c.subject_id != keep_subject))
                else:
                    conn.execute(table.delete())


def apply_seed(
    seed: Seed, services: Services, admin: SubjectRecord, *, reset: bool = False
) -> SeedResult:
    """Create everything the seed describes; on any error nothing stays.

    Args:
        seed: The checked seed.
        services: The server's services (its clock times the records).
        admin: The server's admin: the seed's ``admin`` and the creator of configuration.
        reset: Empty the store (but for ``admin``) first; without it a store that already
            has data is refused.

    Returns:
        What was created.

    Raises:
        SeedError: The store has data (and not ``reset``), or the server refused an entry.
    """
    engine = engine_of(services.store)
    state = StoreState(engine)
    if store_has_data(state) and not reset:
        raise SeedError(
            f"{seed.source.name}: the store already has data; seeding is refused unless it is "
            "reset first (LocalRunnerAPI(reset=True), runnerkit serve --reset)"
        )
    before = state.snapshot()
    try:
        if reset:
            empty_store(engine, admin.id)
        return _create(seed, services, admin, engine)
    except BaseException:
        state.restore(before)
        raise


def _create(seed: Seed, services: Services, admin: SubjectRecord, engine: sa.Engine) -> SeedResult:
    store = services.store
    result = SeedResult()
    records: dict[str, SubjectRecord] = {ADMIN: admin}
    for subject in seed.subjects:
        try:
            subject_id, token = create_subject(
                store,
                name=subject.name,
                principal="service-account" if subject.service_account else "user",
                org_admin=subject.org_admin,
                runner_creator=subject.runner_creator,
                group_ids=subject.groups,
                token=subject.token,
            )
        except DomainError as exc:
            raise domain_error(seed, subject.path, exc) from None
        result.subjects[subject.name] = SeededSubject(subject_id, token)
        record = store.get_subject(subject_id)
        assert record is not None  # noqa: S101 - just created
        records[subject.name] = record
    for runner in seed.runners:
        try:
            created = runners.create_runner(services, records[runner.creator], runner.request)
        except DomainError as exc:
            raise domain_error(seed, runner.path, exc) from None
        runner_id = created.runner.runner_id
        if runner.id:
            _rekey(engine, runner_id, runner.id, seed, runner.path)
            runner_id = runner.id
        result.runner_ids.append(runner_id)
        result.runners_by_name[runner.request.name] = runner_id
        if runner.status is not None:
            set_runner_status(services, runner_id, runner.status)
        for key, children in runner.children.items():
            for child in children:
                _child(
                    seed,
                    services,
                    admin,
                    records,
                    key,
                    child.request,
                    child.subject,
                    runner_id,
                    child.path,
                )
    return result


def _child(  # noqa: PLR0917 - one entry and everything it needs
    seed: Seed,
    services: Services,
    admin: SubjectRecord,
    records: dict[str, SubjectRecord],
    key: str,
    request: Message,
    owner: str | None,
    runner_id: str,
    path: tuple[str | int, ...],
) -> None:
    request.runner_id = runner_id  # type: ignore[attr-defined]
    if owner is not None:
        record = records[owner]
        request.subject.CopyFrom(  # type: ignore[attr-defined]
            identity_pb2.Subject(id=record.id, principal=record.principal)  # type: ignore[arg-type]
        )
    try:
        _OPERATIONS[key](services, admin, request)
    except DomainError as exc:
        raise domain_error(seed, path, exc) from None


def _rekey(engine: sa.Engine, old: str, new: str, seed: Seed, path: tuple[str | int, ...]) -> None:
    """Give a just-created runner the seed's id (its unused exchange token goes)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            taken = conn.execute(
                sa.text("SELECT 1 FROM runners WHERE id = :id"), {"id": new}
            ).first()
            if taken is not None:
                raise seed.error((*path, "id"), f"a runner with id {new} already exists")
            conn.execute(sa.text("DELETE FROM runner_tokens WHERE runner_id = :id"), {"id": old})
            conn.execute(
                sa.text("UPDATE runners SET id = :new WHERE id = :old"), {"new": new, "old": old}
            )
