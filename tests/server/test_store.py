"""The store on both backends: SQLite (always) and PostgreSQL (when a server can be had)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from runnerkit.server.domain.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from runnerkit.server.storage import (
    config_tables,  # noqa: F401 - registers its tables
    sqlite_url,
)
from runnerkit.server.storage.base import (
    PolicyRecord,
    RunnerQuery,
    RunnerRecord,
    RunnerTokenRecord,
    SubjectRecord,
)
from runnerkit.server.storage.engine import create_engine

if TYPE_CHECKING:
    from pathlib import Path

    from runnerkit.server.storage.sql import SQLStore

LOCAL_CONFIGURATION = 3


def _runner(
    n: int, *, kind: int = 2, provider: int = 1, creator: str = "c", created_at: int | None = None
) -> RunnerRecord:
    return RunnerRecord(
        id=str(uuid.UUID(int=n)),
        name=f"r{n}",
        kind=kind,
        provider=provider,
        runner_manager_id="",
        creator_id=creator,
        creator_principal=2,
        spec=b"",
        status=b"",
        public_key=b"k" * 32,
        wrapped_private_key=b"w",
        created_at=created_at if created_at is not None else 1_000 + n,
        updated_at=1_000 + n,
    )


def test_subjects_tokens_and_groups(store: SQLStore):
    group = str(uuid.uuid4())
    subject = SubjectRecord(
        id=str(uuid.uuid4()), principal=2, name="u", group_ids=frozenset({group})
    )
    store.create_subject(subject, ["h1"], now=1)
    store.add_api_token(subject.id, "h2", now=2)
    store.add_group_membership(subject.id, group)  # idempotent
    second = str(uuid.uuid4())
    store.add_group_membership(subject.id, second)
    for token_hash in ("h1", "h2"):
        found = store.subject_for_token(token_hash)
        assert found is not None
        assert found.group_ids == {group, second}
    assert store.subject_for_token("nope") is None
    with pytest.raises(NotFoundError):
        store.add_api_token(str(uuid.uuid4()), "h3", now=3)
    assert store.count_subjects() == 1


def test_keyset_listing_with_filters_and_visibility(store: SQLStore):
    rows = [
        _runner(i, provider=1 + i % 2, creator="a" if i < 5 else "b", created_at=1_000)
        for i in range(1, 11)
    ]
    for row in rows:
        store.insert_runner(row, [])
    everything = store.list_runners(RunnerQuery(), None, 100)
    assert [r.id for r in everything] == [r.id for r in rows]  # same time: ordered by id
    page = store.list_runners(RunnerQuery(), None, 3)
    rest = store.list_runners(RunnerQuery(), (page[-1].created_at, page[-1].id), 100)
    assert [r.id for r in page + rest] == [r.id for r in rows]
    filtered = store.list_runners(RunnerQuery(creator_ids=["a"], providers=[2]), None, 100)
    assert [r.id for r in filtered] == [
        r.id for r in rows if r.creator_id == "a" and r.provider == 2
    ]
    group = str(uuid.uuid4())
    store.insert_policy(PolicyRecord(rows[9].id, group, 2), now=1)
    viewer = SubjectRecord(id="a", principal=2, name="a", group_ids=frozenset({group}))
    visible = store.list_runners(RunnerQuery(visible_to=viewer), None, 100)
    assert [r.id for r in visible] == [r.id for r in rows[:4]] + [rows[9].id]


_GROUP_A, _GROUP_B = str(uuid.UUID(int=10**6 + 1)), str(uuid.UUID(int=10**6 + 2))
_PAGING_CALLERS = {
    "admin": None,
    "creator, no groups": SubjectRecord(id="a", principal=2, name="a"),
    "creator and two groups": SubjectRecord(
        id="a", principal=2, name="a", group_ids=frozenset({_GROUP_A, _GROUP_B})
    ),
    "groups only": SubjectRecord(
        id="z", principal=2, name="z", group_ids=frozenset({_GROUP_A, _GROUP_B})
    ),
}


@pytest.mark.parametrize("insert_reversed", [False, True], ids=["oldest first", "newest first"])
@pytest.mark.parametrize("caller", list(_PAGING_CALLERS))
@pytest.mark.parametrize("kinds", [(), (2,), (1, 2)], ids=["all kinds", "one kind", "two kinds"])
def test_paging_through_many_runners_serves_each_once_in_order(
    store: SQLStore, insert_reversed: bool, caller: str, kinds: tuple[int, ...]
):
    """Single-branch pages (served as read) and merged ones give the same sequence."""
    runners = [
        _runner(
            n,
            kind=1 + n % 2,
            creator="a" if n % 3 == 0 else "b",
            created_at=1_000 + n // 4,  # ties on the time: ordered by id
        )
        for n in range(1, 121)
    ]
    for runner in reversed(runners) if insert_reversed else runners:
        store.insert_runner(runner, [])
    for runner in runners[::4]:  # some also created by "a": listed once
        store.insert_policy(PolicyRecord(runner.id, _GROUP_A, 1), now=1)
    for runner in runners[1::5]:  # some held by both groups
        store.insert_policy(PolicyRecord(runner.id, _GROUP_B, 2), now=1)
    who = _PAGING_CALLERS[caller]
    shared_a, shared_b = {r.id for r in runners[::4]}, {r.id for r in runners[1::5]}
    expected = [
        r
        for r in sorted(runners, key=lambda r: (r.created_at, r.id))
        if (not kinds or r.kind in kinds)
        and (
            who is None
            or r.creator_id == who.id
            or (who.group_ids and (r.id in shared_a or r.id in shared_b))
        )
    ]
    assert expected
    query = RunnerQuery(visible_to=who, kinds=kinds)
    for size in (1, 7, 25, 200):
        served: list[RunnerRecord] = []
        after: tuple[int, str] | None = None
        while True:
            page = store.list_runners(query, after, size)
            assert len(page) <= size
            served += page
            if len(page) < size:
                break
            after = (page[-1].created_at, page[-1].id)
        assert served == expected, size


def test_local_configuration_is_unique(store: SQLStore):
    store.insert_runner(_runner(1, kind=LOCAL_CONFIGURATION, provider=0), [])
    with pytest.raises(AlreadyExistsError):
        store.insert_runner(_runner(2, kind=LOCAL_CONFIGURATION, provider=0), [])
    assert store.get_runner(str(uuid.UUID(int=2))) is None


def test_update_callback_is_atomic(store: SQLStore):
    row = _runner(1)
    store.insert_runner(row, [])

    def failing(current: RunnerRecord) -> RunnerRecord:
        raise InvalidArgumentError("name", "no")

    with pytest.raises(InvalidArgumentError):
        store.update_runner(row.id, failing)
    assert store.get_runner(row.id) == row
    assert store.update_runner(row.id, lambda _: None) == row
    renamed = store.update_runner(row.id, lambda cur: cur._replace(name="new"))
    assert renamed is not None
    assert store.get_runner(row.id) == renamed
    assert store.update_runner(str(uuid.uuid4()), lambda cur: cur) is None


def test_runner_tokens_single_use_and_expiry(store: SQLStore):
    row = _runner(1)
    store.insert_runner(row, [RunnerTokenRecord("x1", row.id, "exchange", 0, 100)])
    store.insert_runner_token(RunnerTokenRecord("x2", row.id, "exchange", 0, 100))
    store.insert_runner_token(RunnerTokenRecord("l1", row.id, "logs", 0, 100))
    assert store.redeem_runner_token("x1", "logs", now=5) is None  # wrong purpose
    assert store.redeem_runner_token("x1", "exchange", now=5) == row.id
    assert store.redeem_runner_token("x1", "exchange", now=6) is None  # used
    assert store.redeem_runner_token("x2", "exchange", now=100) is None  # expired
    assert store.redeem_runner_token("l1", "logs", now=99) == row.id


def test_policies_and_cascade(store: SQLStore):
    row, other = _runner(1), _runner(2)
    store.insert_runner(row, [RunnerTokenRecord("t1", row.id, "exchange", 0, 10)])
    store.insert_runner(other, [RunnerTokenRecord("t2", other.id, "exchange", 0, 10)])
    groups = sorted(str(uuid.uuid4()) for _ in range(3))
    for group in groups:
        store.insert_policy(PolicyRecord(row.id, group, 1), now=1)
        store.insert_policy(PolicyRecord(other.id, group, 2), now=1)
    with pytest.raises(AlreadyExistsError):
        store.insert_policy(PolicyRecord(row.id, groups[0], 2), now=2)
    assert [p.group_id for p in store.list_policies(row.id, groups[0], 10)] == groups[1:]
    assert store.update_policy(PolicyRecord(row.id, groups[0], 2), now=3)
    assert not store.update_policy(PolicyRecord(row.id, str(uuid.uuid4()), 2), now=3)
    assert store.roles_for(row.id, [groups[0], groups[1]]) in ([2, 1], [1, 2])
    assert store.delete_runner(row.id)
    assert not store.delete_runner(row.id)
    assert store.list_policies(row.id, None, 10) == []
    assert store.redeem_runner_token("t1", "exchange", now=1) is None
    assert len(store.list_policies(other.id, None, 10)) == 3
    assert store.delete_policy(other.id, groups[0])
    assert not store.delete_policy(other.id, groups[0])


def test_sqlite_pragmas(tmp_path: Path):
    engine = create_engine(sqlite_url(tmp_path / "p.db"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
