"""The thread-hop policy (handlers/execution.py): where each kind of operation runs."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from connectrpc.code import Code

from runnerkit.server.handlers.execution import (
    Executor,
    Runs,
    SCMSaturatedError,
    store_pool_size,
    store_reads_inline,
)
from runnerkit.server.storage import open_store, sqlite_url

if TYPE_CHECKING:
    from pathlib import Path


class _EngineOnly:
    """Any store: the policy only looks at its engine."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)


def test_sqlite_reads_run_on_the_loop_writes_and_scm_calls_do_not() -> None:
    executor = Executor(inline_reads=True, store_threads=2, scm_threads=2, scm_queue=0)

    async def threads() -> tuple[int, int, int, int]:
        loop_thread = threading.get_ident()
        read = await executor.run(Runs.READ, threading.get_ident)
        write = await executor.run(Runs.WRITE, threading.get_ident)
        scm = await executor.run(Runs.SCM, threading.get_ident)
        return loop_thread, read, write, scm

    loop_thread, read, write, scm = asyncio.run(threads())
    assert read == loop_thread
    assert write != loop_thread
    assert scm not in (loop_thread, write)
    executor.shutdown()


def test_reads_of_a_network_store_leave_the_loop() -> None:
    executor = Executor(inline_reads=False, store_threads=2)

    async def threads() -> tuple[int, int]:
        return threading.get_ident(), await executor.run(Runs.READ, threading.get_ident)

    loop_thread, read = asyncio.run(threads())
    assert read != loop_thread
    executor.shutdown()


def test_the_policy_follows_the_store(tmp_path: Path) -> None:
    sqlite = open_store(sqlite_url(tmp_path / "p.db"))
    try:
        assert store_reads_inline(sqlite)
        assert Executor.for_store(sqlite).inline_reads
        assert store_pool_size(sqlite) == 1  # one writer at a time
    finally:
        sqlite.close()
    postgres = _EngineOnly("postgresql+psycopg://runnerkit@127.0.0.1:1/runnerkit")
    assert not store_reads_inline(postgres)
    # One thread per connection the engine's pool can hand out (5 + 10 overflow by default).
    assert store_pool_size(postgres) == 15
    assert not store_reads_inline(object())


def test_scm_calls_beyond_the_limit_are_refused_at_once_and_admitted_again_later() -> None:
    executor = Executor(inline_reads=True, scm_threads=2, scm_queue=1)
    release = threading.Event()

    async def scenario() -> None:
        held = [asyncio.ensure_future(executor.run(Runs.SCM, release.wait)) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert executor.scm_in_progress == 3
        with pytest.raises(SCMSaturatedError) as refused:
            await executor.run(Runs.SCM, release.wait)
        assert refused.value.code == Code.UNAVAILABLE
        assert "too many SCM calls in progress (limit 3)" in refused.value.message
        # Other kinds of work are not affected by the full SCM pool.
        assert await executor.run(Runs.WRITE, lambda: "written") == "written"
        release.set()
        assert await asyncio.gather(*held) == [True, True, True]
        assert await executor.run(Runs.SCM, lambda: "again") == "again"

    asyncio.run(scenario())
    assert executor.scm_in_progress == 0
    executor.shutdown()


def test_an_scm_slot_is_freed_when_the_call_ends_not_when_the_caller_gives_up() -> None:
    executor = Executor(inline_reads=True, scm_threads=1, scm_queue=0)
    release, started = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait()

    async def scenario() -> None:
        call = asyncio.ensure_future(executor.run(Runs.SCM, slow))
        await asyncio.to_thread(started.wait)
        call.cancel()  # e.g. the client disconnected
        await asyncio.sleep(0)
        assert executor.scm_in_progress == 1  # the thread is still busy
        with pytest.raises(SCMSaturatedError):
            await executor.run(Runs.SCM, slow)
        release.set()
        for _ in range(100):
            if executor.scm_in_progress == 0:
                break
            await asyncio.sleep(0.01)
        assert executor.scm_in_progress == 0

    asyncio.run(scenario())
    executor.shutdown()
