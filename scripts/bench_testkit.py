"""Benchmark the testing kit: how fast ``LocalRunnerAPI`` starts, resets and snapshots.

Side by side in one process, in interleaved rounds (these machines are noisy: read ratios):

- ``bare``: uvicorn serving a trivial ASGI app on a free loopback port in a thread, started
  and stopped — the floor of any in-process server;
- ``LocalRunnerAPI``: the real server on a fresh SQLite store, started and stopped;
- ``reset()``, ``snapshot()`` and ``restore()`` of a store with 20 runners.

The first ``LocalRunnerAPI`` of a process also migrates a template database (printed apart).
Usage: ``python scripts/bench_testkit.py [--rounds N]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import TYPE_CHECKING

from runnerkit.testing import LocalRunnerAPI
from runnerkit.testing.serving import serve_in_thread

if TYPE_CHECKING:
    from collections.abc import Callable

    from runnerkit.server.asgi import Receive, Scope, Send


async def _bare(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _bare_start_stop() -> tuple[float, float]:
    started = time.perf_counter()
    with serve_in_thread(_bare):
        up = time.perf_counter()
    return up - started, time.perf_counter() - up


def _local_start_stop() -> tuple[float, float]:
    started = time.perf_counter()
    with LocalRunnerAPI():
        up = time.perf_counter()
    return up - started, time.perf_counter() - up


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    first = _timed(lambda: LocalRunnerAPI().start().close())
    samples: dict[str, list[float]] = {k: [] for k in ("bare", "bare_stop", "local", "local_stop")}
    for _ in range(args.rounds):
        for key, run in (("bare", _bare_start_stop), ("local", _local_start_stop)):
            start, stop = run()
            samples[key].append(start)
            samples[f"{key}_stop"].append(stop)

    ops: dict[str, list[float]] = {"reset": [], "snapshot": [], "restore": []}
    with LocalRunnerAPI() as api, api.client() as client:
        for i in range(20):
            client.runners.create(name=f"runner-{i}", provider="RUNNER_PROVIDER_GCP")
        api.hooks.mark_initial()  # reset() returns to these 20 runners
        for _ in range(args.rounds):
            ops["snapshot"].append(_timed(api.snapshot))
            snapshot = api.snapshot()
            ops["restore"].append(_timed(lambda s=snapshot: api.restore(s)))  # type: ignore[misc]
            ops["reset"].append(_timed(api.reset))

    bare = statistics.median(samples["bare"])
    print(
        f"LocalRunnerAPI, {args.rounds} interleaved rounds (median seconds; ratio to bare uvicorn)"
    )
    print(f"  first start in a process (migrates the template): {first:.3f} s")
    for label, key in (("start", "local"), ("stop", "local_stop")):
        median = statistics.median(samples[key])
        floor = statistics.median(samples["bare" if key == "local" else "bare_stop"])
        print(f"  {label:<8} {median:.3f} s   bare {floor:.3f} s   ratio {median / floor:.1f}x")
    for name, values in ops.items():
        median = statistics.median(values)
        print(
            f"  {name:<8} {median * 1000:.1f} ms (20 runners)   ratio to bare start {median / bare:.2f}x"
        )


if __name__ == "__main__":
    main()
