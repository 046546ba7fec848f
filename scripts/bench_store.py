"""Store-level costs, side by side in one run: reads against the driver, pages against scale.

Seeds SQLite files deterministically with bulk inserts (a few seconds), then measures in
interleaved rounds (each round runs every workload once; medians over the rounds):

- ``SQLStore.get_runner`` against the same SELECT on a plain ``sqlite3`` connection (the floor);
- ``SQLStore.subject_for_token`` (the read every request makes) against the same floor;
- a non-admin's ListRunners page (25) when the caller's group holds 50 policies against the
  same page when it holds 20,000 (the goal: ≤ 2x);
- an org admin's first page (25) with 1,000 runners against the same page with 100,000
  runners (the goal: the same cost).

These machines are noisy: read the ratios, not the absolute figures. Usage:
``python scripts/bench_store.py [--rounds N] [--calls N]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from runnerkit.server.storage import open_store, sqlite_url
from runnerkit.server.storage import tables as t
from runnerkit.server.storage.base import RunnerQuery, SubjectRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    import sqlalchemy as sa

    from runnerkit.server.storage.sql import SQLStore

PAGE = 26  # the service reads page_size + 1 rows
BASE_TIME = 1_700_000_000_000_000
_CHUNK = 5_000


def _id(space: int, n: int) -> str:
    return str(uuid.UUID(int=(space << 64) | n))


def _runner_rows(start: int, count: int, creator: str) -> list[dict[str, object]]:
    return [
        {
            "id": _id(1, n),
            "name": f"runner-{n}",
            "kind": 2,
            "provider": 1 + n % 3,
            "runner_manager_id": "",
            "creator_id": creator,
            "creator_principal": 2,
            "spec": b"\x12\x04\x08\x01\x10\x01",
            "status": b"\x08\x01",
            "public_key": bytes(32),
            "wrapped_private_key": bytes(72),
            "metrics_password_sealed": b"",
            "created_at": BASE_TIME + n,
            "updated_at": BASE_TIME + n,
        }
        for n in range(start, start + count)
    ]


def _bulk(store: SQLStore, table: sa.Table, rows: list[dict[str, object]]) -> None:
    with store.engine.begin() as conn:
        for i in range(0, len(rows), _CHUNK):
            conn.execute(table.insert(), rows[i : i + _CHUNK])


def _seed_runners(store: SQLStore, count: int, creator: str) -> None:
    for start in range(0, count, 20_000):
        _bulk(store, t.runners, _runner_rows(start, min(20_000, count - start), creator))


def _policy_rows(group: str, runners: range) -> list[dict[str, object]]:
    # The policy table may carry the runner's creation time (the keyset order) next to its id.
    ordered = "runner_created_at" in t.runner_policies.c
    rows: list[dict[str, object]] = []
    for n in runners:
        row: dict[str, object] = {
            "runner_id": _id(1, n),
            "group_id": group,
            "role": 2,
            "created_at": BASE_TIME,
            "updated_at": BASE_TIME,
        }
        if ordered:
            row["runner_created_at"] = BASE_TIME + n
        rows.append(row)
    return rows


def _subject(store: SQLStore, n: int, group: str) -> SubjectRecord:
    subject = SubjectRecord(
        id=_id(2, n), principal=2, name=f"user-{n}", group_ids=frozenset({group})
    )
    store.create_subject(subject, [f"{n:064x}"], BASE_TIME)
    return subject


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"bench_store: seeding went wrong: expected that {what}")


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def main() -> None:
    """Seed, measure in interleaved rounds, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    parser.add_argument("--calls", type=int, default=300, help="calls per workload per round")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rk-bench-store-") as tmp:
        started = time.perf_counter()
        small_path, big_path = Path(tmp, "small.db"), Path(tmp, "big.db")
        small, big = open_store(sqlite_url(small_path)), open_store(sqlite_url(big_path))
        creator = _id(3, 0)
        _seed_runners(small, 1_000, creator)
        _seed_runners(big, 100_000, creator)
        few, many = _id(4, 1), _id(4, 2)
        # "few" holds 50 policies spread over the big store, "many" holds 20,000.
        _bulk(big, t.runner_policies, _policy_rows(few, range(0, 100_000, 2_000)))
        _bulk(big, t.runner_policies, _policy_rows(many, range(1, 100_000, 5)[:20_000]))
        user_few, user_many = _subject(big, 1, few), _subject(big, 2, many)
        admin = SubjectRecord(id=_id(2, 9), principal=2, name="admin", org_admin=True)
        big.create_subject(admin, ["a" * 64], BASE_TIME)
        seeded = time.perf_counter() - started

        runner_id = _id(1, 77_777)
        raw = sqlite3.connect(big_path, check_same_thread=False)
        raw_sql = "SELECT * FROM runners WHERE id = ?"
        raw_subject_sql = (
            "SELECT s.*, (SELECT group_concat(group_id) FROM subject_groups g"
            " WHERE g.subject_id = s.id) FROM api_tokens a JOIN subjects s"
            " ON s.id = a.subject_id WHERE a.token_hash = ?"
        )
        token_hash = f"{1:064x}"
        _check(big.get_runner(runner_id) is not None, "the runner is there")
        _check(raw.execute(raw_sql, (runner_id,)).fetchone() is not None, "sqlite3 finds it")
        _check(big.subject_for_token(token_hash) == user_few, "the token finds its subject")
        pages = {
            "few": big.list_runners(RunnerQuery(visible_to=user_few), None, PAGE),
            "many": big.list_runners(RunnerQuery(visible_to=user_many), None, PAGE),
        }
        _check(all(len(rows) == PAGE for rows in pages.values()), "pages are full")

        workloads: dict[str, Callable[[], object]] = {
            "sqlite3 SELECT runner (floor)": lambda: raw.execute(raw_sql, (runner_id,)).fetchone(),
            "SQLStore.get_runner": lambda: big.get_runner(runner_id),
            "sqlite3 SELECT token+subject+groups": lambda: raw.execute(
                raw_subject_sql, (token_hash,)
            ).fetchone(),
            "SQLStore.subject_for_token": lambda: big.subject_for_token(token_hash),
            "non-admin page, 50 policies": lambda: big.list_runners(
                RunnerQuery(visible_to=user_few), None, PAGE
            ),
            "non-admin page, 20,000 policies": lambda: big.list_runners(
                RunnerQuery(visible_to=user_many), None, PAGE
            ),
            "admin page, 1,000 runners": lambda: small.list_runners(RunnerQuery(), None, PAGE),
            "admin page, 100,000 runners": lambda: big.list_runners(RunnerQuery(), None, PAGE),
        }
        calls = dict.fromkeys(workloads, args.calls)
        for name in workloads:
            if "page" in name:
                calls[name] = max(1, args.calls // 10)
        samples: dict[str, list[float]] = {name: [] for name in workloads}
        for _ in range(args.rounds):
            for name, work in workloads.items():
                n = calls[name]
                begin = time.perf_counter()
                for _ in range(n):
                    work()
                samples[name].append((time.perf_counter() - begin) / n)
        raw.close()
        small.close()
        big.close()

    med = {name: _median_us(values) for name, values in samples.items()}
    print(f"store bench: SQLite, {args.rounds} interleaved rounds (seeded in {seeded:.1f} s)")
    for name, value in med.items():
        print(f"  {name:<38} {value:10.1f} µs")
    print("ratios:")
    ratios = [
        ("get_runner / sqlite3 SELECT", "SQLStore.get_runner", "sqlite3 SELECT runner (floor)"),
        (
            "subject_for_token / sqlite3 SELECT",
            "SQLStore.subject_for_token",
            "sqlite3 SELECT token+subject+groups",
        ),
        (
            "page 20,000 / 50 policies (goal ≤ 2)",
            "non-admin page, 20,000 policies",
            "non-admin page, 50 policies",
        ),
        (
            "page 100k / 1k runners (goal ≈ 1)",
            "admin page, 100,000 runners",
            "admin page, 1,000 runners",
        ),
    ]
    for label, top, bottom in ratios:
        print(f"  {label:<38} {med[top] / med[bottom]:10.2f}x")


if __name__ == "__main__":
    main()
