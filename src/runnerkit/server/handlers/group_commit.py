"""Group commit of durable writes on SQLite: one writer thread, one fsync per group.

SQLite has one writer at a time and syncs every commit to disk (``synchronous=FULL``), so the
writes of concurrent requests can only queue; with one commit each, the fsyncs add up and the
throughput of writes is one fsync each at best. :class:`GroupCommitWriter` keeps the queue
itself: its thread takes the first waiting operation, runs it inside a write group
(``storage/write_group.py``), runs the operations that are waiting by then in the same group
(up to ``max_group``), commits once, and only then answers each caller. So:

- **acknowledged = durable**: no caller hears of success before the commit that made its
  write durable has returned; if that commit fails, every operation of the group gets the
  error (none of them was acknowledged);
- **each operation is isolated**: each ``store.write()`` block is a savepoint, so an
  operation that fails (a taken name, a permission check inside the transaction, a foreign
  key) rolls back alone and its own caller gets its own error, while the others commit;
- **a lone write is not delayed**: a group never waits for more work; a write that arrives
  while the queue is empty is committed at once, as before, and writes group up only when
  they arrive while another group is running or committing;
- **a broken group is run again**: when the database drops the whole transaction (a full
  disk, an I/O error), the operation during which that happened gets its error, and the
  operations before it, whose changes went with the transaction, run again in a new group.

The answer travels back with one ``call_soon_threadsafe`` per group and event loop (no
``concurrent.futures`` future and no wrapping of it). An operation whose caller has gone
(its future cancelled, e.g. the client disconnected) before the operation started is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Callable, Sequence

    from runnerkit.server.storage.write_group import WriteGroup

_T = TypeVar("_T")

MAX_GROUP = 64
_log = logging.getLogger("runnerkit.server.handlers")


class LostTransactionError(RuntimeError):
    """The database dropped the group's transaction while this operation ran."""


@dataclass
class _Job:
    function: Callable[..., Any]
    args: tuple[object, ...]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


@dataclass
class _Outcome:
    job: _Job
    ok: bool
    value: Any


class GroupCommitWriter:
    """Runs write operations on one thread, grouped into shared commits (module docstring).

    Args:
        write_group: Opens a write group on the calling thread (``SQLStore.write_group``).
        max_group: At most this many operations share one commit.
    """

    def __init__(
        self,
        write_group: Callable[[], contextlib.AbstractContextManager[WriteGroup]],
        *,
        max_group: int = MAX_GROUP,
    ) -> None:
        self._write_group = write_group
        self._max_group = max(1, max_group)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._stopping = False

    async def run(self, function: Callable[..., _T], *args: object) -> _T:
        """Run ``function(*args)`` on the writer thread; its result once its group committed.

        Raises:
            RuntimeError: The writer was shut down.
        """
        if self._thread is None or self._closed:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        self._queue.put(_Job(function, args, loop, future))
        return await future

    def _start(self) -> None:
        with self._lock:
            if self._closed:
                msg = "cannot run writes after shutdown"
                raise RuntimeError(msg)
            if self._thread is None:
                thread = threading.Thread(target=self._serve, name="runnerkit-writer", daemon=True)
                thread.start()
                self._thread = thread

    def shutdown(self) -> None:
        """Stop the thread once the writes queued so far are done (does not wait)."""
        with self._lock:
            self._closed = True
            if self._thread is not None:
                self._queue.put(None)

    def _serve(self) -> None:
        again: list[_Job] = []
        while not (self._stopping and not again):
            if not again:
                first = self._queue.get()
                if first is None:
                    return
                again = [first]
            again = self._group(again)

    def _next(self) -> _Job | None:
        """Another waiting operation, or None when none waits (or the writer is stopping)."""
        if self._stopping:
            return None
        try:
            job = self._queue.get_nowait()
        except queue.Empty:
            return None
        if job is None:
            self._stopping = True
        return job

    def _group(self, jobs: list[_Job]) -> list[_Job]:
        """Run ``jobs``, then those waiting, in one group; commit; answer.

        Returns:
            The operations to run again in a new group (the database dropped this one).
        """
        taken = list(jobs)  # every operation of this group
        done: list[_Outcome] = []
        rerun: list[_Job] = []
        answered = False  # a caller has been answered: the group's fate is settled
        try:
            with self._write_group() as group:
                pending = list(reversed(jobs))  # handed in: all run, whatever max_group
                while pending or len(done) < self._max_group:
                    if pending:
                        job = pending.pop()
                    else:
                        waiting = self._next()
                        if waiting is None:
                            break
                        job = waiting
                        taken.append(job)
                    if job.future.cancelled():
                        continue
                    outcome = _call(job)
                    group.check()
                    if not group.intact:
                        # Its error is its own; the earlier ones lost their changes with the
                        # transaction: they run again (none of them was answered).
                        if outcome.ok:
                            outcome = _Outcome(job, ok=False, value=LostTransactionError())
                        rerun = [o.job for o in done] + list(reversed(pending))
                        answered = True
                        _answer([outcome])
                        break
                    done.append(outcome)
                if group.intact:
                    group.commit()
                    answered = True
                    _answer(done)
        except Exception as exc:  # noqa: BLE001 - the group could not open or commit
            if answered:  # settled; only releasing the connection failed
                _log.warning("closing a write group failed: %s", exc)
            else:  # nothing of the group is durable
                _answer([_Outcome(job, ok=False, value=exc) for job in taken])
        return rerun


def _call(job: _Job) -> _Outcome:
    try:
        return _Outcome(job, ok=True, value=job.function(*job.args))
    except BaseException as exc:  # noqa: BLE001 - carried to the caller, as an executor does
        return _Outcome(job, ok=False, value=exc)


def _answer(outcomes: Sequence[_Outcome]) -> None:
    """Hand each outcome to its caller's event loop (one wake-up per loop)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome.job.loop, []).append(outcome)
    for loop, batch in by_loop.items():
        try:
            loop.call_soon_threadsafe(_deliver, batch)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            continue


def _deliver(outcomes: Sequence[_Outcome]) -> None:
    for outcome in outcomes:
        future = outcome.job.future
        if future.done():  # cancelled meanwhile
            continue
        if outcome.ok:
            future.set_result(outcome.value)
        else:
            future.set_exception(outcome.value)
