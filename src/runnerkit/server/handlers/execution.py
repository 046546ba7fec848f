"""Where an operation runs: the thread-hop policy of the request path (docs/server.md).

Every RPC's operation is synchronous (``op(services, subject, request)``); each row of the
handler table (``handlers/table.py``) says which kind it is, and :class:`Executor` runs it:

- ``Runs.READ`` — a short read. On SQLite it runs **on the event loop**: a read is a few
  microseconds of local file access (WAL mode: readers never wait for the writer), cheaper than
  the ~55 µs thread hop and the disconnect-watch task connectrpc starts when a handler
  suspends. On any other store (PostgreSQL: network I/O) it runs on the store pool, since
  blocking the loop on a network round trip would stall every other request.
- ``Runs.WRITE`` — a durable write (SQLite: ``synchronous=FULL``, an fsync per commit). Never
  on the loop: on SQLite on the group-commit writer thread (``handlers/group_commit.py``: the
  writes waiting at the same time share one commit, each answered after it), else on the store
  pool, one transaction each.
- ``Runs.SCM`` — the operation calls a GitHub/GitLab host (``server/scm``). It runs on its own
  bounded SCM pool, so slow SCM hosts never hold up other RPCs. At most ``scm_threads`` run and
  ``scm_queue`` more wait; beyond that the call is refused at once with ``unavailable`` (retry
  later) instead of queueing without bound.

The store pool has ``store_threads`` threads: one on SQLite (where it runs nothing the writer
does not: reads are inline), else the store's connection pool size (each thread holds at most
one connection). Threads start on first use; :meth:`Executor.shutdown` stops them (the app's
lifespan shutdown).
"""

from __future__ import annotations

import asyncio
import enum
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from runnerkit.server.handlers.group_commit import GroupCommitWriter

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

_T = TypeVar("_T")

DEFAULT_STORE_THREADS = 8
DEFAULT_SCM_THREADS = 16
DEFAULT_SCM_QUEUE = 16
_MAX_STORE_THREADS = 32


class Runs(enum.Enum):
    """How an operation runs (see the module docstring)."""

    READ = "read"
    WRITE = "write"
    SCM = "scm"


def store_reads_inline(store: object) -> bool:
    """Whether short reads of ``store`` may run on the event loop (a local SQLite file)."""
    engine = getattr(store, "engine", None)
    dialect = getattr(engine, "dialect", None)
    return getattr(dialect, "name", None) == "sqlite"


def store_pool_size(store: object) -> int:
    """Threads for the store pool: 1 for SQLite, else the store's connection pool size.

    SQLite has one writer at a time, and on SQLite the pool only runs writes of an executor
    without a group-commit writer (reads are inline): one thread queues them in arrival order,
    where several threads would wait for the database lock in SQLite's busy handler, which
    sleeps in growing steps (up to 100 ms).
    """
    if store_reads_inline(store):
        return 1
    pool = getattr(getattr(store, "engine", None), "pool", None)
    size = getattr(pool, "size", None)
    if not callable(size):
        return DEFAULT_STORE_THREADS
    overflow = max(int(getattr(pool, "_max_overflow", 0)), 0)
    return max(1, min(int(size()) + overflow, _MAX_STORE_THREADS))


class SCMSaturatedError(ConnectError):
    """``unavailable``: every SCM slot is taken; the client should retry shortly."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            Code.UNAVAILABLE,
            f"too many SCM calls in progress (limit {limit}); retry in a moment",
        )


class Executor:
    """Runs operations by their ``Runs`` kind: inline, on the store pool or on the SCM pool.

    Args:
        inline_reads: Whether ``Runs.READ`` runs on the event loop (``store_reads_inline``).
        store_threads: Size of the store pool (writes; reads when not inline).
        scm_threads: SCM calls that run at once.
        scm_queue: SCM calls that may wait for a thread; more are refused (``unavailable``).
        writer: Runs ``Runs.WRITE`` instead of the store pool (SQLite's group commit).
    """

    def __init__(
        self,
        *,
        inline_reads: bool,
        store_threads: int = DEFAULT_STORE_THREADS,
        scm_threads: int = DEFAULT_SCM_THREADS,
        scm_queue: int = DEFAULT_SCM_QUEUE,
        writer: GroupCommitWriter | None = None,
    ) -> None:
        self.inline_reads = inline_reads
        self._writer = writer
        self._store_pool = ThreadPoolExecutor(store_threads, thread_name_prefix="runnerkit-store")
        self._scm_pool = ThreadPoolExecutor(scm_threads, thread_name_prefix="runnerkit-scm")
        self._scm_limit = scm_threads + scm_queue
        self._scm_admitted = 0
        self._scm_lock = threading.Lock()

    @classmethod
    def for_store(cls, store: object, **limits: int) -> Executor:
        """The executor for ``store``: inline reads and group commit on SQLite, else a pool."""
        limits.setdefault("store_threads", store_pool_size(store))
        inline = store_reads_inline(store)
        write_group = getattr(store, "write_group", None)
        writer = GroupCommitWriter(write_group) if inline and callable(write_group) else None
        return cls(inline_reads=inline, writer=writer, **limits)

    def runner(self, runs: Runs) -> Callable[..., Awaitable[Any]]:
        """The coroutine function that runs a callable and its arguments as ``runs`` says."""
        if runs is Runs.SCM:
            return self.scm
        if runs is Runs.READ and self.inline_reads:
            return _inline
        if runs is Runs.WRITE and self._writer is not None:
            return self._writer.run
        return self.store

    async def run(self, runs: Runs, function: Callable[..., _T], *args: object) -> _T:
        """Run ``function(*args)`` as ``runs`` says and return its result."""
        result: _T = await self.runner(runs)(function, *args)
        return result

    async def store(self, function: Callable[..., _T], *args: object) -> _T:
        """Run ``function(*args)`` on the store pool."""
        return await asyncio.get_running_loop().run_in_executor(self._store_pool, function, *args)

    async def scm(self, function: Callable[..., _T], *args: object) -> _T:
        """Run ``function(*args)`` on the SCM pool, or refuse when it is saturated.

        Raises:
            SCMSaturatedError: ``scm_threads`` calls run and ``scm_queue`` wait already.
        """
        with self._scm_lock:
            if self._scm_admitted >= self._scm_limit:
                raise SCMSaturatedError(self._scm_limit)
            self._scm_admitted += 1
        try:
            future = self._scm_pool.submit(function, *args)
        except BaseException:
            self._release_scm()
            raise
        # Released when the thread is done, even if the caller stopped waiting (disconnect).
        future.add_done_callback(lambda _: self._release_scm())
        return await asyncio.wrap_future(future)

    @property
    def scm_in_progress(self) -> int:
        """SCM calls running or waiting for a thread."""
        return self._scm_admitted

    def _release_scm(self) -> None:
        with self._scm_lock:
            self._scm_admitted -= 1

    def shutdown(self) -> None:
        """Stop the pools' threads once their current work is done (does not wait)."""
        self._store_pool.shutdown(wait=False, cancel_futures=True)
        if self._writer is not None:
            self._writer.shutdown()
        self._scm_pool.shutdown(wait=False, cancel_futures=True)


async def _inline(function: Callable[..., _T], *args: object) -> _T:
    return function(*args)
