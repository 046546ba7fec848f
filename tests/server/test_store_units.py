"""The store's units of work, its direct look-ups and its errors, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import shutil
import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from runnerkit.server.domain.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from runnerkit.server.storage import config_tables as ct
from runnerkit.server.storage import (
    open_store,
    sql_host_tokens,
    sql_runners,
    sql_scm_integrations,
    sqlite_url,
)
from runnerkit.server.storage import tables as t
from runnerkit.server.storage.records import (
    EnvironmentClassQuery,
    EnvironmentClassRecord,
    HostTokenQuery,
    HostTokenRecord,
    PolicyRecord,
    RunnerQuery,
    RunnerRecord,
    RunnerTokenRecord,
    SCMIntegrationQuery,
    SCMIntegrationRecord,
    SubjectRecord,
)
from runnerkit.server.storage.sql import create_engine, migrate
from runnerkit.server.storage.statements import violated_constraint
from runnerkit_proto.gitpod.v1 import runner_pb2
from tests.server.test_store import LOCAL_CONFIGURATION, _runner

if TYPE_CHECKING:
    from runnerkit.server.storage.sql import SQLStore


def _id(n: int) -> str:
    return str(uuid.UUID(int=n))


def _integration(runner_id: str, host: str, n: int = 1) -> SCMIntegrationRecord:
    return SCMIntegrationRecord(
        id=_id(10_000 + n),
        runner_id=runner_id,
        scm_id="github",
        host=host,
        oauth_client_id=None,
        oauth_client_secret_sealed=b"",
        issuer_url=None,
        pat=True,
        virtual_directory=None,
        created_at=1,
        updated_at=1,
    )


def _host_token(runner_id: str, host: str, subject_id: str, n: int = 1) -> HostTokenRecord:
    return HostTokenRecord(
        id=_id(20_000 + n),
        runner_id=runner_id,
        host=host,
        subject_id=subject_id,
        subject_principal=2,
        source=2,
        token_sealed=b"sealed",
        refresh_token_sealed=b"",
        expires_at=None,
        integration_id=None,
        scopes=("repo",),
        created_at=n,
        updated_at=n,
    )


def test_a_write_unit_commits_everything_or_nothing(store: SQLStore):
    runner = _runner(1)
    group = _id(900)

    def write_then_fail() -> None:
        with store.write() as tx:
            tx.insert_runner(runner, [RunnerTokenRecord("t1", runner.id, "exchange", 0, 10)])
            tx.insert_policy(PolicyRecord(runner.id, group, 2), now=1)
            assert tx.get_runner(runner.id) == runner  # the transaction sees its own writes
            raise InvalidArgumentError("name", "changed my mind")

    with pytest.raises(InvalidArgumentError):
        write_then_fail()
    assert store.get_runner(runner.id) is None
    assert store.get_policy(runner.id, group) is None
    with store.write() as tx:
        tx.insert_runner(runner, [RunnerTokenRecord("t1", runner.id, "exchange", 0, 10)])
        tx.insert_policy(PolicyRecord(runner.id, group, 2), now=1)
    assert store.get_runner(runner.id) == runner
    assert store.get_policy(runner.id, group) == PolicyRecord(runner.id, group, 2)
    assert store.redeem_runner_token("t1", "exchange", now=1) == runner.id


def test_read_units_nest_and_see_committed_writes(store: SQLStore):
    runner = _runner(1)
    store.insert_runner(runner, [])
    with store.read() as tx:
        assert tx.get_runner(runner.id) == runner
        with store.read() as inner:  # joins the outer one
            assert inner.get_runner(runner.id) == runner
        assert store.get_runner(runner.id) == runner  # a one-call read inside works too
        assert tx.roles_for(runner.id, []) == []
    with store.read() as tx:  # the outer one ended cleanly: a new one starts
        assert tx.get_runner(_id(2)) is None


def test_a_runner_comes_with_the_roles_of_the_callers_groups_in_one_read(store: SQLStore):
    runner, other = _runner(1), _runner(2)
    store.insert_runner(runner, [])
    store.insert_runner(other, [])
    admins, users, strangers = _id(10), _id(11), _id(12)
    with store.write() as tx:
        tx.insert_policy(PolicyRecord(runner.id, admins, runner_pb2.RUNNER_ROLE_ADMIN), now=1)
        tx.insert_policy(PolicyRecord(runner.id, users, runner_pb2.RUNNER_ROLE_USER), now=1)
        tx.insert_policy(PolicyRecord(other.id, strangers, runner_pb2.RUNNER_ROLE_ADMIN), now=1)
    with store.single() as tx:
        assert tx.get_runner_with_roles(runner.id, []) == (runner, [])
        assert tx.get_runner_with_roles(runner.id, [strangers]) == (runner, [])
        assert tx.get_runner_with_roles(runner.id, [users]) == (
            runner,
            [runner_pb2.RUNNER_ROLE_USER],
        )
        found, roles = tx.get_runner_with_roles(runner.id, [admins, strangers, users])
        assert found == runner
        assert sorted(roles) == [runner_pb2.RUNNER_ROLE_ADMIN, runner_pb2.RUNNER_ROLE_USER]
        assert tx.get_runner_with_roles(other.id, [strangers, users]) == (
            other,
            [runner_pb2.RUNNER_ROLE_ADMIN],
        )
        assert tx.get_runner_with_roles(_id(3), []) == (None, [])
        assert tx.get_runner_with_roles(_id(3), [admins]) == (None, [])
    with store.read() as tx:  # the same inside a transaction
        assert tx.get_runner_with_roles(runner.id, [users]) == (
            runner,
            [runner_pb2.RUNNER_ROLE_USER],
        )


def test_subject_for_token_reads_groups_in_one_statement(store: SQLStore):
    lonely = SubjectRecord(id=_id(1), principal=2, name="lonely")
    grouped = SubjectRecord(
        id=_id(2), principal=3, name="svc", runner_creator=True, group_ids=frozenset({"a", "b"})
    )
    store.create_subject(lonely, ["h1"], now=1)
    store.create_subject(grouped, ["h2", "h3"], now=1)
    assert store.subject_for_token("h1") == lonely
    assert store.subject_for_token("h3") == grouped
    assert store.subject_for_token("h4") is None
    assert store.get_subject(grouped.id) == grouped
    with pytest.raises(AlreadyExistsError):
        store.create_subject(SubjectRecord(id=_id(3), principal=2, name="x"), ["h1"], now=1)
    with pytest.raises(AlreadyExistsError):
        store.create_subject(SubjectRecord(id=_id(1), principal=2, name="x"), ["h9"], now=1)
    assert store.count_subjects() == 2


def test_find_host_token_is_a_look_up_by_its_unique_key(store: SQLStore):
    runner, other = _runner(1), _runner(2)
    store.insert_runner(runner, [])
    store.insert_runner(other, [])
    me, you = _id(101), _id(102)
    mine = _host_token(runner.id, "github.com", me, 1)
    store.insert_host_token(mine)
    store.insert_host_token(_host_token(runner.id, "gitlab.com", me, 2))
    store.insert_host_token(_host_token(runner.id, "github.com", you, 3))
    store.insert_host_token(_host_token(other.id, "github.com", me, 4))
    assert store.find_host_token(runner.id, "github.com", me) == mine
    with store.read() as tx:
        assert tx.find_host_token(runner.id, "github.com", me) == mine
    assert store.find_host_token(runner.id, "bitbucket.org", me) is None
    assert store.find_host_token(runner.id, "github.com", _id(103)) is None
    with pytest.raises(AlreadyExistsError):
        store.insert_host_token(dataclasses.replace(mine, id=_id(5)))


def _viewer_pages(store: SQLStore, query: RunnerQuery, size: int) -> list[str]:
    ids: list[str] = []
    after: tuple[int, str] | None = None
    while True:
        page = store.list_runners(query, after, size)
        ids += [r.id for r in page]
        if len(page) < size:
            return ids
        after = (page[-1].created_at, page[-1].id)


def test_a_non_admin_pages_through_created_and_shared_runners_once_each(store: SQLStore):
    me = _id(500)
    groups = [_id(600), _id(601)]
    rows = [
        _runner(
            n,
            kind=1 + n % 2,
            provider=1 + n % 3,
            creator=me if n % 5 == 0 else _id(501),
            created_at=1_000 + n // 2,  # pairs share a time: ordered by id within
        )
        for n in range(1, 41)
    ]
    for row in rows:
        store.insert_runner(row, [])
    shared: set[str] = set()
    for n, row in enumerate(rows, start=1):
        if n % 3 == 0:  # group 0; some of them created by me as well
            store.insert_policy(PolicyRecord(row.id, groups[0], 1), now=1)
            shared.add(row.id)
        if n % 4 == 0:  # group 1; overlaps group 0
            store.insert_policy(PolicyRecord(row.id, groups[1], 2), now=1)
            shared.add(row.id)
    store.insert_policy(PolicyRecord(rows[0].id, _id(602), 2), now=1)  # not my group
    viewer = SubjectRecord(id=me, principal=2, name="me", group_ids=frozenset(groups))
    visible = [r for r in rows if r.creator_id == me or r.id in shared]
    ordered = [r.id for r in sorted(visible, key=lambda r: (r.created_at, r.id))]
    for size in (1, 3, 7, 100):
        assert _viewer_pages(store, RunnerQuery(visible_to=viewer), size) == ordered
    filtered = RunnerQuery(visible_to=viewer, kinds=[1], providers=[1, 3])
    expected = [
        r.id
        for r in sorted(visible, key=lambda r: (r.created_at, r.id))
        if r.kind == 1 and r.provider in (1, 3)
    ]
    assert expected
    assert _viewer_pages(store, filtered, 2) == expected
    lonely = SubjectRecord(id=_id(502), principal=2, name="nobody")
    assert store.list_runners(RunnerQuery(visible_to=lonely), None, 10) == []


def test_a_policy_carries_its_runners_creation_time(store: SQLStore):
    runner = _runner(1, created_at=123_456)
    store.insert_runner(runner, [])
    store.insert_policy(PolicyRecord(runner.id, _id(7), 1), now=999)
    p = t.runner_policies
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(p.c.runner_created_at, p.c.created_at)).one()
    assert tuple(stored) == (123_456, 999)
    with pytest.raises(NotFoundError):
        store.insert_policy(PolicyRecord(_id(2), _id(7), 1), now=1)


def test_integrity_errors_are_mapped_by_constraint(store: SQLStore):
    runner = _runner(1)
    store.insert_runner(runner, [])
    with pytest.raises(AlreadyExistsError, match="exists already"):
        store.insert_runner(runner._replace(name="twin"), [])
    with pytest.raises(NotFoundError, match="not found"):
        store.insert_runner_token(RunnerTokenRecord("x", _id(2), "exchange", 0, 10))
    env = EnvironmentClassRecord(
        _id(30), runner.id, "c", "", (), enabled=True, created_at=1, updated_at=1
    )
    store.insert_environment_class(env)
    with pytest.raises(AlreadyExistsError):
        store.insert_environment_class(env)
    with pytest.raises(NotFoundError):
        store.insert_environment_class(dataclasses.replace(env, id=_id(31), runner_id=_id(2)))
    with pytest.raises(NotFoundError):
        store.insert_scm_integration(_integration(_id(2), "github.com"))
    with pytest.raises(NotFoundError):
        store.insert_host_token(_host_token(_id(2), "github.com", _id(101)))
    assert store.get_runner(runner.id) == runner


@pytest.mark.parametrize(
    ("module", "first", "twin", "name"),
    [
        (
            sql_scm_integrations,
            lambda rid: (ct.scm_integrations, dataclasses.asdict(_integration(rid, "h.io", 1))),
            lambda rid: (ct.scm_integrations, dataclasses.asdict(_integration(rid, "h.io", 2))),
            "uq_scm_integrations_runner_host",
        ),
        (
            sql_host_tokens,
            lambda rid: (
                ct.host_tokens,
                {**dataclasses.asdict(_host_token(rid, "h.io", _id(5), 1)), "scopes": "[]"},
            ),
            lambda rid: (
                ct.host_tokens,
                {**dataclasses.asdict(_host_token(rid, "h.io", _id(5), 2)), "scopes": "[]"},
            ),
            "uq_host_auth_tokens_runner_host_subject",
        ),
        (
            sql_runners,
            lambda rid: (
                t.runners,
                _runner(50, kind=LOCAL_CONFIGURATION, provider=0)._asdict(),
            ),
            lambda rid: (
                t.runners,
                _runner(51, kind=LOCAL_CONFIGURATION, provider=0)._asdict(),
            ),
            "uq_runners_local_configuration",
        ),
    ],
    ids=["scm-integration", "host-token", "local-configuration"],
)
def test_a_lost_race_is_recognised_by_its_constraint(store: SQLStore, module, first, twin, name):
    """A twin that slips past the check in the transaction hits the unique constraint.

    The statements run on the driver as the store runs them; the driver's error names the
    constraint on both backends (SQLite by its columns).
    """
    runner = _runner(1)
    store.insert_runner(runner, [])
    table, values = first(runner.id)
    with store.write() as tx:
        tx.execute(table.insert(), values, cached=False)
    table, values = twin(runner.id)
    with store.write() as tx, pytest.raises(tx.integrity_error) as raised:
        tx.execute(table.insert(), values, cached=False)
    assert violated_constraint(raised.value, module._UNIQUE_KEYS) == name


def test_an_unexpected_integrity_error_is_logged_and_not_disguised(
    store: SQLStore, caplog: pytest.LogCaptureFixture
):
    runner = _runner(1)
    store.insert_runner(runner, [RunnerTokenRecord("dup", runner.id, "exchange", 0, 10)])
    caplog.set_level(logging.ERROR, logger="runnerkit.server.storage")
    with store.write() as tx, pytest.raises(Exception) as raised:  # noqa: PT011 - the driver's
        tx.insert_runner_token(RunnerTokenRecord("dup", runner.id, "logs", 0, 10))
    assert not isinstance(raised.value, (AlreadyExistsError, NotFoundError))
    assert isinstance(raised.value, tx.integrity_error)
    assert "unexpected integrity error in insert_runner_token" in caplog.text


def test_migration_0004_fills_the_creation_time_of_existing_policies(empty_url: str):
    engine = create_engine(empty_url)
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("runnerkit.server.storage") / "migrations")
    )
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.commit()
    old = _runner(1, created_at=4_242)
    with engine.begin() as conn:
        conn.execute(t.runners.insert(), old._asdict())
        conn.execute(
            sa.text(
                "INSERT INTO runner_policies (runner_id, group_id, role, created_at, updated_at)"
                " VALUES (:r, :g, 1, 7, 7)"
            ),
            {"r": old.id, "g": _id(9)},
        )
    migrate(engine)
    engine.dispose()
    store = open_store(empty_url)
    try:
        p = t.runner_policies
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(p.c.runner_created_at)).scalar_one() == 4_242
        viewer = SubjectRecord(id=_id(8), principal=2, name="v", group_ids=frozenset({_id(9)}))
        assert store.list_runners(RunnerQuery(visible_to=viewer), None, 5) == [old]
        indexes = {i["name"] for i in sa.inspect(store.engine).get_indexes("runner_policies")}
        assert "ix_runner_policies_group_order" in indexes
        assert "ix_runner_policies_group" not in indexes
    finally:
        store.close()


def test_runner_records_read_from_rows_equal_the_written_ones(store: SQLStore):
    runner = _runner(1)._replace(spec=b"\x00\x01", metrics_password_sealed=b"pw")
    store.insert_runner(runner, [])
    read = store.get_runner(runner.id)
    assert read == runner
    assert hash(read) == hash(runner)
    assert isinstance(read, RunnerRecord)
    with pytest.raises(AttributeError):  # immutable
        read.name = "x"  # type: ignore[misc]


def test_reads_from_many_threads_then_close_leaves_the_data_in_the_db_file(tmp_path: Path):
    """Each thread reads on its own connection; ``close()`` closes them all, so the WAL is
    checkpointed into the database file and a copy of that file alone holds the data."""
    store = open_store(sqlite_url(tmp_path / "store.db"))
    runners = [_runner(n) for n in range(1, 9)]
    for runner in runners:
        store.insert_runner(runner, [])

    def read_all(_: int) -> list[RunnerRecord | None]:
        with store.read() as tx:
            return [tx.get_runner(r.id) for r in runners]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(read_all, range(16)))
        store.update_runner(runners[0].id, lambda cur: cur._replace(name="renamed"))
        after = list(pool.map(lambda _: store.get_runner(runners[0].id), range(8)))
    assert all(result == runners for result in results)
    assert {r.name for r in after if r is not None} == {"renamed"}
    store.close()
    copy = tmp_path / "copy.db"
    shutil.copyfile(tmp_path / "store.db", copy)
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("SELECT count(*) FROM runners").fetchone() == (8,)


def test_configuration_lists_by_viewer_and_filters(store: SQLStore):
    mine, shared, hidden = _runner(1, creator=_id(101)), _runner(2), _runner(3)
    for runner in (mine, shared, hidden):
        store.insert_runner(runner, [])
    group = _id(700)
    store.insert_policy(PolicyRecord(shared.id, group, runner_pb2.RUNNER_ROLE_USER), now=1)
    me = SubjectRecord(id=_id(101), principal=2, name="me", group_ids=frozenset({group}))
    stranger = SubjectRecord(id=_id(102), principal=2, name="x")
    for n, runner in enumerate((mine, shared, hidden), start=1):
        store.insert_scm_integration(_integration(runner.id, "h.io", n))
        store.insert_host_token(_host_token(runner.id, "h.io", me.id, n))
        store.insert_host_token(_host_token(runner.id, "h.io", stranger.id, 10 + n))
    integrations = store.list_scm_integrations(SCMIntegrationQuery(viewer=me), None, 10)
    assert [i.runner_id for i in integrations] == [mine.id, shared.id]
    assert store.list_scm_integrations(
        SCMIntegrationQuery(runner_ids=[hidden.id]), (0, ""), 10
    ) == [_integration(hidden.id, "h.io", 3)]
    tokens = store.list_host_tokens(HostTokenQuery(viewer=me), None, 10)
    # All tokens of the runner I created; only my own on the one shared with me (USER).
    assert sorted((x.runner_id, x.subject_id) for x in tokens) == sorted(
        [(mine.id, me.id), (mine.id, stranger.id), (shared.id, me.id)]
    )
    assert store.list_host_tokens(HostTokenQuery(viewer=stranger), None, 10) == []
    everyone = store.list_host_tokens(HostTokenQuery(), None, 100)
    assert len(everyone) == 6
    page = store.list_host_tokens(HostTokenQuery(subject_id=me.id), None, 2)
    rest = store.list_host_tokens(
        HostTokenQuery(subject_id=me.id), (page[-1].created_at, page[-1].id), 10
    )
    assert [x.runner_id for x in page + rest] == [mine.id, shared.id, hidden.id]
    assert store.list_host_tokens(HostTokenQuery(runner_id=shared.id, user_id=me.id), None, 10) == [
        _host_token(shared.id, "h.io", me.id, 2)
    ]
    assert store.host_token_hosts(shared.id, me.id, now=5) == ["h.io"]
    assert store.has_unexpired_host_token(None, "h.io", me.id, now=5)
    assert not store.has_unexpired_host_token(shared.id, "other.io", me.id, now=5)
    env = EnvironmentClassRecord(
        _id(40), shared.id, "c", "", (("k", "v"),), enabled=False, created_at=1, updated_at=1
    )
    store.insert_environment_class(env)
    assert store.list_environment_classes(
        EnvironmentClassQuery(viewer=me, runner_kinds=[2], enabled=False), None, 10
    ) == [env]
    assert store.list_environment_classes(EnvironmentClassQuery(viewer=stranger), None, 10) == []
    assert store.list_environment_classes(EnvironmentClassQuery(enabled=True), None, 10) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
def test_a_finished_threads_read_connection_is_closed(tmp_path: Path):
    """Threads that come and go (worker pools retire idle threads) leave no open files."""
    store = open_store(sqlite_url(tmp_path / "store.db"))
    runner = _runner(1)
    store.insert_runner(runner, [])
    found: list[RunnerRecord | None] = []

    def read() -> None:
        found.append(store.get_runner(runner.id))

    def open_files() -> int:
        return len(list(Path("/proc/self/fd").iterdir()))

    read()  # this thread's connection: opened once and kept
    before = open_files()
    for _ in range(20):
        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
        del thread
        gc.collect()
    assert found == [runner] * 21
    assert open_files() <= before + 2
    store.close()
