"""Keyset queries for ListRunners that walk an index in order, whatever the filters.

A plain ``WHERE kind IN (a, b) ... ORDER BY created_at, id LIMIT n`` makes the database collect
and sort every matching row after the position: the first page of a large list costs the most.
Instead the query is split into *branches* whose union is the answer and each of which can be
read in ``(created_at, id)`` order from one index — one per value of the first multi-valued
filter, and, for callers who are not org admins, one for the runners they created and one for
the runners their groups hold policies on. Each branch reads at most ``limit`` rows; the
branches are merged in order and duplicates (a runner both created and shared) dropped. A page
then costs ``O(branches * limit)`` rows wherever it starts. A filter with more than
``MAX_DRIVING_VALUES`` values is not split (one sorted query is cheaper than that many).
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runnerkit.server.storage import tables as t

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from runnerkit.server.storage.base import RunnerQuery

_Clause = sa.ColumnElement[bool]
# Above this many values a filter stays one IN (...) clause: one sorted query beats that many.
MAX_DRIVING_VALUES = 16


def runner_branches(
    query: RunnerQuery, after: tuple[int, str] | None, limit: int
) -> list[sa.Select[Any]]:
    """The ordered, limited SELECTs whose merged union answers ``query`` from ``after`` on.

    Args:
        query: Filters and visibility.
        after: Keyset position ``(created_at, id)`` of the last row served, or None.
        limit: Rows wanted.

    Returns:
        One or more statements, each ordered by ``(created_at, id)`` and limited to ``limit``.
    """
    r = t.runners
    common: list[_Clause] = []
    filters: list[tuple[sa.Column[Any], Sequence[object]]] = [
        (r.c.creator_id, query.creator_ids),
        (r.c.kind, query.kinds),
        (r.c.provider, query.providers),
    ]
    driving: tuple[sa.Column[Any], Sequence[object]] | None = None
    for column, values in filters:
        if 1 < len(values) <= MAX_DRIVING_VALUES and driving is None:
            driving = (column, values)
        elif values:
            common.append(column.in_(list(values)))
    if after is not None:
        common.append(sa.tuple_(r.c.created_at, r.c.id) > sa.tuple_(*after))

    branches: list[list[_Clause]] = [[]]
    if query.visible_to is not None:
        who = query.visible_to
        branches = [[r.c.creator_id == who.id]]
        if who.group_ids:
            p = t.runner_policies
            shared = sa.select(p.c.runner_id).where(p.c.group_id.in_(sorted(who.group_ids)))
            branches.append([r.c.id.in_(shared)])
    if driving is not None:
        column, values = driving
        branches = [[*branch, column == value] for branch in branches for value in values]
    return [
        sa.select(r).where(*common, *branch).order_by(r.c.created_at, r.c.id).limit(limit)
        for branch in branches
    ]


def merge_ordered(results: Iterable[Sequence[sa.Row[Any]]], limit: int) -> list[sa.Row[Any]]:
    """Merge branch results (each ordered by ``(created_at, id)``), without duplicates.

    Args:
        results: The rows of each branch.
        limit: Rows wanted.

    Returns:
        Up to ``limit`` distinct rows in ``(created_at, id)`` order.
    """
    merged: list[sa.Row[Any]] = []
    seen: set[str] = set()
    for row in heapq.merge(*results, key=lambda row: (row.created_at, row.id)):
        if row.id in seen:
            continue
        seen.add(row.id)
        merged.append(row)
        if len(merged) == limit:
            break
    return merged
