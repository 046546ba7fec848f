"""Group commit on SQLite: write groups (storage/write_group.py) and the writer thread
(handlers/group_commit.py).

Every test runs on a real SQLite file and checks durability by reading the file on a
connection of its own (a fresh ``sqlite3`` connection sees only what was committed).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import uuid
from typing import TYPE_CHECKING

import pytest

from runnerkit.server import bootstrap
from runnerkit.server.domain.errors import AlreadyExistsError, PermissionDeniedError
from runnerkit.server.handlers.execution import Executor, Runs
from runnerkit.server.handlers.group_commit import GroupCommitWriter, LostTransactionError
from runnerkit.server.service import runners
from runnerkit.server.storage import SubjectRecord, open_store, sqlite_url
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from runnerkit_proto.gitpod.v1 import runner_pb2
from tests.server.test_store import LOCAL_CONFIGURATION, _runner

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from runnerkit.server.storage.sql import SQLStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "group.db"


@pytest.fixture
def store(db: Path) -> Iterator[SQLStore]:
    opened = open_store(sqlite_url(db))
    try:
        yield opened
    finally:
        opened.close()


def _stored_runner_ids(db: Path) -> set[str]:
    """The runners committed to the file (a connection of its own: committed rows only)."""
    connection = sqlite3.connect(db)
    try:
        return {row[0] for row in connection.execute("SELECT id FROM runners")}
    finally:
        connection.close()


def _insert(store: SQLStore, n: int, *, kind: int = 2) -> Callable[[], str]:
    def insert() -> str:
        record = _runner(n, kind=kind)
        store.insert_runner(record, [])
        return record.id

    return insert


def _drop_transaction(store: SQLStore) -> None:
    """End the group's transaction from inside a write block, as SQLite does on a full disk
    or an I/O error (the block's savepoint is then gone: releasing it fails)."""
    with store.write() as tx:
        tx.connection.execute("ROLLBACK")


# -- write groups (the store) --


def test_the_blocks_of_a_group_are_durable_together_at_its_commit(db: Path, store: SQLStore):
    with store.write_group() as group:
        for n in (1, 2, 3):
            with store.write() as tx:
                tx.insert_runner(_runner(n), [])
        with store.write() as tx:  # later blocks see the earlier ones: one transaction
            assert tx.get_runner(_runner(1).id) is not None
        assert _stored_runner_ids(db) == set()  # nothing durable before the commit
        group.commit()
    assert _stored_runner_ids(db) == {_runner(n).id for n in (1, 2, 3)}


def test_reads_inside_a_group_see_its_uncommitted_writes(db: Path, store: SQLStore):
    """An operation reading after a write of its own, or after an earlier operation of the
    group, sees those changes (as when each committed in turn); outside the group nothing yet."""
    with store.write_group() as group:
        assert store.get_runner(_runner(1).id) is None  # nothing written: the usual read
        store.insert_runner(_runner(1), [])
        assert store.get_runner(_runner(1).id) is not None  # single() joins the group
        with store.read() as tx:  # read() too
            assert tx.get_runner(_runner(1).id) is not None
        seen_elsewhere: list[object] = []
        reader = threading.Thread(
            target=lambda: seen_elsewhere.append(store.get_runner(_runner(1).id))
        )
        reader.start()
        reader.join()
        assert seen_elsewhere == [None]  # another thread: committed rows only
        group.commit()
    assert store.get_runner(_runner(1).id) is not None
    assert _stored_runner_ids(db) == {_runner(1).id}


def test_a_failing_block_rolls_back_alone(db: Path, store: SQLStore):
    with store.write_group() as group:
        store.insert_runner(_runner(1, kind=LOCAL_CONFIGURATION), [])
        with pytest.raises(AlreadyExistsError):  # a second LOCAL_CONFIGURATION runner
            store.insert_runner(_runner(2, kind=LOCAL_CONFIGURATION), [])
        with pytest.raises(AlreadyExistsError):  # the id is taken (primary key)
            store.insert_runner(_runner(1), [])

        def half_done() -> None:
            with store.write() as tx:
                tx.insert_runner(_runner(3), [])  # written, then the block raises: undone
                raise PermissionDeniedError("no")

        with pytest.raises(PermissionDeniedError):
            half_done()
        store.insert_runner(_runner(4), [])
        assert group.intact
        group.commit()
    assert _stored_runner_ids(db) == {_runner(1).id, _runner(4).id}


def test_a_failing_first_block_rolls_back_alone(db: Path, store: SQLStore):
    store.insert_runner(_runner(1), [])

    def taken_id() -> None:
        with store.write() as tx:
            tx.insert_runner(_runner(2), [])  # undone with the block
            tx.insert_runner(_runner(1), [])

    with store.write_group() as group:
        with pytest.raises(AlreadyExistsError):
            taken_id()
        store.insert_runner(_runner(3), [])
        store.insert_runner(_runner(4), [])
        group.commit()
    assert _stored_runner_ids(db) == {_runner(n).id for n in (1, 3, 4)}


def test_a_group_left_without_its_commit_stores_nothing(db: Path, store: SQLStore):
    def unfinished() -> None:
        with store.write_group():
            store.insert_runner(_runner(1), [])
            msg = "stop"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="stop"):
        unfinished()
    with store.write_group():
        store.insert_runner(_runner(2), [])
    assert _stored_runner_ids(db) == set()
    store.insert_runner(_runner(3), [])  # outside a group: a transaction of its own again
    assert _stored_runner_ids(db) == {_runner(3).id}


def test_write_groups_do_not_nest(store: SQLStore):
    with store.write_group(), pytest.raises(RuntimeError, match="do not nest"), store.write_group():
        pass


def test_a_group_that_the_database_dropped_is_no_longer_intact(store: SQLStore):
    with store.write_group() as group:
        store.insert_runner(_runner(1), [])
        assert group.intact
        with pytest.raises(sqlite3.OperationalError, match="no such savepoint"):
            _drop_transaction(store)
        assert not group.intact


def test_a_group_on_another_thread_is_not_joined(db: Path, store: SQLStore):
    """Only writes on the group's own thread join it; others keep their own transactions."""
    with store.write_group() as group:
        store.insert_runner(_runner(1), [])
        group.commit()
    other = threading.Thread(target=_insert(store, 2))
    with store.write_group() as group:
        other.start()  # waits for the group's lock (busy_timeout), commits on its own
        store.insert_runner(_runner(3), [])
        group.commit()
    other.join()
    assert _stored_runner_ids(db) == {_runner(n).id for n in (1, 2, 3)}


# -- the writer thread --


def _run_held(
    writer: GroupCommitWriter, functions: Sequence[Callable[[], object]], *, held: object = "held"
) -> list[object | BaseException]:
    """Run ``functions`` through ``writer`` while its thread is held, so they form one group.

    A first call blocks the writer thread until every other call is queued behind it; then
    all of them run as one group (the first call's group takes what waits). Returns each
    call's result or exception, in order; the first call's outcome must be ``held``.
    """
    queued = threading.Event()

    def hold() -> str:
        queued.wait(timeout=30)
        return "held"

    async def scenario() -> list[object | BaseException]:
        first = asyncio.ensure_future(writer.run(hold))
        await asyncio.sleep(0)  # the hold is queued first
        rest = [asyncio.ensure_future(writer.run(function)) for function in functions]
        await asyncio.sleep(0)  # ... and the others behind it
        queued.set()
        results = await asyncio.gather(first, *rest, return_exceptions=True)
        assert results[0] == held if isinstance(held, str) else isinstance(results[0], held)  # type: ignore[arg-type]
        return list(results[1:])

    return asyncio.run(scenario())


def test_concurrent_writes_all_become_durable(db: Path, store: SQLStore):
    writer = GroupCommitWriter(store.write_group)
    try:
        results = _run_held(writer, [_insert(store, n) for n in range(1, 21)])
    finally:
        writer.shutdown()
    assert results == [_runner(n).id for n in range(1, 21)]
    assert _stored_runner_ids(db) == {_runner(n).id for n in range(1, 21)}


def test_the_writes_of_a_group_are_answered_after_its_commit(db: Path, store: SQLStore):
    seen: list[set[str]] = []

    def second() -> str:
        seen.append(_stored_runner_ids(db))  # the first write is done but not yet committed
        return _insert(store, 2)()

    writer = GroupCommitWriter(store.write_group)
    try:
        results = _run_held(writer, [_insert(store, 1), second])
    finally:
        writer.shutdown()
    assert seen == [set()]
    assert results == [_runner(1).id, _runner(2).id]
    assert _stored_runner_ids(db) == {_runner(1).id, _runner(2).id}


def test_a_failing_write_gets_its_own_error_and_the_others_commit(db: Path, store: SQLStore):
    def broken() -> None:
        msg = "a bug"
        raise ValueError(msg)

    functions = [
        _insert(store, 1, kind=LOCAL_CONFIGURATION),
        _insert(store, 2),
        _insert(store, 3, kind=LOCAL_CONFIGURATION),  # taken by the first: already exists
        broken,
        _insert(store, 2),  # the id is taken by the second
        _insert(store, 4),
    ]
    writer = GroupCommitWriter(store.write_group)
    try:
        results = _run_held(writer, functions)
    finally:
        writer.shutdown()
    assert results[0] == _runner(1).id
    assert results[1] == _runner(2).id
    assert isinstance(results[2], AlreadyExistsError)
    assert "LOCAL_CONFIGURATION" in str(results[2])
    assert isinstance(results[3], ValueError)
    assert isinstance(results[4], AlreadyExistsError)
    assert _runner(2).id in str(results[4])
    assert results[5] == _runner(4).id
    assert _stored_runner_ids(db) == {_runner(n).id for n in (1, 2, 4)}


def test_the_writes_before_a_dropped_transaction_run_again(db: Path, store: SQLStore):
    calls: list[int] = []

    def counted(n: int) -> Callable[[], str]:
        def insert() -> str:
            calls.append(n)
            return _insert(store, n)()

        return insert

    def drop() -> None:
        _drop_transaction(store)

    def drop_quietly() -> None:
        with contextlib.suppress(sqlite3.OperationalError):
            _drop_transaction(store)

    writer = GroupCommitWriter(store.write_group)
    try:
        results = _run_held(writer, [counted(1), drop, counted(2), drop_quietly, counted(3)])
    finally:
        writer.shutdown()
    assert results[0] == _runner(1).id
    assert isinstance(results[1], sqlite3.OperationalError)  # its own error
    assert results[2] == _runner(2).id
    # It returned, but its transaction was gone: it cannot be reported as done.
    assert isinstance(results[3], LostTransactionError)
    assert results[4] == _runner(3).id
    # Each drop sent the writes before it in its group (not yet committed) to run again in a
    # new group: 1 after the first drop, 1 and 2 after the second.
    assert calls == [1, 1, 2, 1, 2, 3]
    assert _stored_runner_ids(db) == {_runner(n).id for n in (1, 2, 3)}


def test_a_failed_commit_fails_every_write_of_the_group(db: Path, store: SQLStore):
    def orphan() -> None:
        with store.write() as tx:
            tx.connection.execute("PRAGMA defer_foreign_keys=ON")  # checked at the commit
            tx.connection.execute(
                "INSERT INTO runner_tokens (token_hash, runner_id, purpose, created_at,"
                " expires_at) VALUES ('h', 'no such runner', 'exchange', 1, 2)"
            )

    writer = GroupCommitWriter(store.write_group)
    try:
        functions = [_insert(store, 1), orphan, _insert(store, 2)]
        results = _run_held(writer, functions, held=sqlite3.IntegrityError)
        assert _stored_runner_ids(db) == set()  # none of them was acknowledged
        assert all(isinstance(result, sqlite3.IntegrityError) for result in results)
        # The writer goes on with the next group.
        assert _run_held(writer, [_insert(store, 3)]) == [_runner(3).id]
    finally:
        writer.shutdown()
    assert _stored_runner_ids(db) == {_runner(3).id}


def test_a_write_whose_caller_left_before_it_started_is_skipped(db: Path, store: SQLStore):
    writer = GroupCommitWriter(store.write_group)
    release = threading.Event()

    async def scenario() -> object:
        held = asyncio.ensure_future(writer.run(release.wait, 30))
        await asyncio.sleep(0)
        gone = asyncio.ensure_future(writer.run(_insert(store, 1)))
        kept = asyncio.ensure_future(writer.run(_insert(store, 2)))
        await asyncio.sleep(0)
        gone.cancel()  # e.g. the client disconnected while the write waited
        await asyncio.sleep(0)
        release.set()
        assert await held is True
        return await kept

    try:
        assert asyncio.run(scenario()) == _runner(2).id
    finally:
        writer.shutdown()
    assert _stored_runner_ids(db) == {_runner(2).id}


def test_no_writes_after_shutdown(store: SQLStore):
    writer = GroupCommitWriter(store.write_group)
    assert asyncio.run(writer.run(lambda: 1)) == 1
    writer.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        asyncio.run(writer.run(lambda: 2))


# -- through the executor and the service --


def test_concurrent_creates_through_the_executor_are_all_stored(db: Path):
    store, key = bootstrap.open_sqlite(db, {})
    svc = bootstrap.build_services(store, key)
    admin = SubjectRecord(id=str(uuid.uuid4()), principal=2, name="admin", org_admin=True)
    executor = Executor.for_store(store)

    requests = [
        runner_pb2.CreateRunnerRequest(name=f"runner-{n}", provider=rc_pb2.RUNNER_PROVIDER_AWS_EC2)
        for n in range(30)
    ]
    local = runner_pb2.CreateRunnerRequest(
        name="local", kind=rc_pb2.RUNNER_KIND_LOCAL_CONFIGURATION
    )

    async def scenario() -> list[object]:
        calls = [
            executor.run(Runs.WRITE, runners.create_runner, svc, admin, request)
            for request in [*requests, local, local]
        ]
        return list(await asyncio.gather(*calls, return_exceptions=True))

    try:
        results = asyncio.run(scenario())
    finally:
        executor.shutdown()
        svc.scm.close()
        store.close()
    created = [r for r in results if isinstance(r, runner_pb2.CreateRunnerResponse)]
    refused = [r for r in results if isinstance(r, AlreadyExistsError)]
    assert len(created) == 31  # 30 remote runners and one of the two local ones
    assert len(refused) == 1
    names = [r.runner.name for r in created]
    assert sorted(names) == sorted([f"runner-{n}" for n in range(30)] + ["local"])
    assert _stored_runner_ids(db) == {r.runner.runner_id for r in created}
