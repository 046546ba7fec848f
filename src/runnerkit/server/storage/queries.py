"""Keyset queries for ListRunners that walk an index in order, whatever the filters and caller.

A plain ``WHERE kind IN (a, b) ... ORDER BY created_at, id LIMIT n`` makes the database collect
and sort every matching row after the position: the first page of a large list costs the most.
Instead the page is one statement, a ``UNION ALL`` of *branches* each of which is read in
``(created_at, id)`` order from one index and limited to ``n`` rows:

- one per value of the first multi-valued filter (a filter with more than
  ``MAX_DRIVING_VALUES`` values stays one ``IN`` list: one sorted query beats that many);
- for callers who are not org admins, the runners they created (``ix_runners_creator``) and,
  per group they belong to, the runners the group holds a policy on, read from
  ``ix_runner_policies_group_order`` ``(group_id, runner_created_at, runner_id)`` — so a page
  costs the same with 50 policies or 20,000.

The rows of the branches are merged in order and duplicates (a runner both created and shared)
dropped: a page costs ``O(branches * limit)`` rows wherever it starts. Statements are built once
per *shape* (which filters, how many values, how many groups) with bind parameters for the
values, and cached.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

from runnerkit.server.storage import tables as t
from runnerkit.server.storage.records import RunnerRecord
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from runnerkit.server.storage.records import RunnerQuery, SubjectRecord

ROLE_ADMIN = runner_pb2.RUNNER_ROLE_ADMIN

# Above this many values a filter stays one IN (...) clause: one sorted query beats that many.
MAX_DRIVING_VALUES = 16
# The runner columns in RunnerRecord field order: ``read_runner(row)``.
RUNNER_COLUMNS = tuple(t.runners.c[name] for name in RunnerRecord._fields)
# A record from a row of RUNNER_COLUMNS: the tuple itself, retyped (one C call, no checks).
read_runner: Callable[[Sequence[Any]], RunnerRecord] = functools.partial(
    tuple.__new__, RunnerRecord
)
# A row's keyset position (created_at, id), read in C (no Python key function per row).
_POSITION = operator.itemgetter(RunnerRecord._fields.index("created_at"), 0)
_FILTERS = ("creator_id", "kind", "provider")


class _Shape(NamedTuple):  # a tuple: cheap to build and to hash as the cache key
    counts: tuple[int, int, int]  # values per filter, in _FILTERS order
    driving: int | None  # the filter split into one branch per value
    visible: bool  # restricted to a non-admin caller
    groups: int  # the caller's groups (when visible)
    after: bool  # continues after a keyset position


def _filter_clauses(shape: _Shape, skip: int | None) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    for i, (name, count) in enumerate(zip(_FILTERS, shape.counts, strict=True)):
        if count and i != skip:
            column = t.runners.c[name]
            clauses.append(column.in_([sa.bindparam(f"f{i}_{j}") for j in range(count)]))
    return clauses


def _after_clause(created_at: sa.ColumnElement[Any], id_: sa.ColumnElement[Any]) -> Any:  # noqa: ANN401 - a SQL expression
    return sa.tuple_(created_at, id_) > sa.tuple_(sa.bindparam("after_t"), sa.bindparam("after_id"))


@functools.lru_cache(maxsize=512)
def _page_statement(shape: _Shape) -> tuple[sa.Select[Any], bool]:
    r, p = t.runners, t.runner_policies
    limit: sa.BindParameter[int] = sa.bindparam("lim")
    branches: list[sa.Select[Any]] = []
    # Branches read from the runners table: all runners, or those the caller created.
    own: list[list[sa.ColumnElement[bool]]] = [[]]
    if shape.visible:
        own = [[r.c.creator_id == sa.bindparam("who")]]
    if shape.driving is not None:
        column = r.c[_FILTERS[shape.driving]]
        count = shape.counts[shape.driving]
        own = [
            [*branch, column == sa.bindparam(f"f{shape.driving}_{j}")]
            for branch in own
            for j in range(count)
        ]
    for branch in own:
        stmt = sa.select(*RUNNER_COLUMNS).where(*branch, *_filter_clauses(shape, shape.driving))
        if shape.after:
            stmt = stmt.where(_after_clause(r.c.created_at, r.c.id))
        branches.append(stmt.order_by(r.c.created_at, r.c.id).limit(limit))
    # Branches read from the policies of each of the caller's groups, in the runners' order.
    for g in range(shape.groups if shape.visible else 0):
        stmt = (
            sa.select(*RUNNER_COLUMNS)
            .select_from(p.join(r, r.c.id == p.c.runner_id))
            .where(p.c.group_id == sa.bindparam(f"g{g}"), *_filter_clauses(shape, None))
        )
        if shape.after:
            stmt = stmt.where(_after_clause(p.c.runner_created_at, p.c.runner_id))
        branches.append(stmt.order_by(p.c.runner_created_at, p.c.runner_id).limit(limit))
    if len(branches) == 1:
        return branches[0], True
    parts = [sa.select(*branch.subquery().c) for branch in branches]
    union = sa.union_all(*parts).subquery()
    return sa.select(*union.c), False


def runner_page(
    query: RunnerQuery, after: tuple[int, str] | None, limit: int
) -> tuple[sa.Select[Any], dict[str, object], bool]:
    """The statement (cached per shape), its parameters and whether it has one branch.

    Args:
        query: Filters and visibility.
        after: Keyset position ``(created_at, id)`` of the last row served, or None.
        limit: Rows wanted.

    Returns:
        The statement, its parameters, and True when it is a single branch: its rows (runner
        columns in ``RunnerRecord`` order) are then the page as they are, in order and
        distinct; otherwise (possibly duplicated and unordered across branches)
        ``merge_page`` turns them into the page.
    """
    values: list[Sequence[object]] = [query.creator_ids, query.kinds, query.providers]
    driving = next(
        (i for i, v in enumerate(values) if 1 < len(v) <= MAX_DRIVING_VALUES),
        None,
    )
    who = query.visible_to
    groups = sorted(who.group_ids) if who is not None else []
    shape = _Shape(
        counts=(len(values[0]), len(values[1]), len(values[2])),
        driving=driving,
        visible=who is not None,
        groups=len(groups),
        after=after is not None,
    )
    params: dict[str, object] = {"lim": limit}
    for i, given in enumerate(values):
        for j, value in enumerate(given):
            params[f"f{i}_{j}"] = value
    if who is not None:
        params["who"] = who.id
        for g, group in enumerate(groups):
            params[f"g{g}"] = group
    if after is not None:
        params["after_t"], params["after_id"] = after
    stmt, single = _page_statement(shape)
    return stmt, params, single


def merge_page(rows: Sequence[Sequence[Any]], limit: int) -> list[RunnerRecord]:
    """The first ``limit`` distinct runners of the branches' rows, in ``(created_at, id)`` order.

    Args:
        rows: The rows ``runner_page``'s statement returned.
        limit: Rows wanted.

    Returns:
        The records.
    """
    page: list[RunnerRecord] = []
    last = None
    for row in sorted(rows, key=_POSITION):  # a runner's copies are next to each other
        if row[0] == last:
            continue
        last = row[0]
        page.append(read_runner(row))
        if len(page) == limit:
            break
    return page


def in_list(column: sa.ColumnElement[Any], prefix: str, count: int) -> sa.ColumnElement[bool]:
    """``column IN (:prefix0, :prefix1, ...)`` with ``count`` named parameters."""
    return column.in_([sa.bindparam(f"{prefix}{i}") for i in range(count)])


def bind_list(params: dict[str, object], prefix: str, values: Sequence[object]) -> None:
    """Set the parameters ``in_list(column, prefix, len(values))`` names."""
    for i, value in enumerate(values):
        params[f"{prefix}{i}"] = value


def policy_exists(groups: int, *, admin_only: bool) -> sa.ColumnElement[bool]:
    """A policy of one of the ``groups`` viewer groups (``:vg0``...) on ``t.runners``' row."""
    p = t.runner_policies
    stmt = sa.select(p.c.runner_id).where(
        p.c.runner_id == t.runners.c.id, in_list(p.c.group_id, "vg", groups)
    )
    if admin_only:
        stmt = stmt.where(p.c.role == ROLE_ADMIN)
    return stmt.exists()


def may_use(groups: int) -> sa.ColumnElement[bool]:
    """The runner (``t.runners``) is one the viewer (``:viewer``) created or holds a policy on."""
    mine = t.runners.c.creator_id == sa.bindparam("viewer")
    return sa.or_(mine, policy_exists(groups, admin_only=False)) if groups else mine


def bind_viewer(params: dict[str, object], viewer: SubjectRecord) -> None:
    """Set ``:viewer`` and the ``:vg<i>`` group parameters of ``may_use``/``policy_exists``."""
    params["viewer"] = viewer.id
    bind_list(params, "vg", sorted(viewer.group_ids))


def after_position(table: sa.Table) -> sa.ColumnElement[bool]:
    """``(created_at, id) > (:after_t, :after_id)`` on ``table``."""
    return _after_clause(table.c.created_at, table.c.id)  # type: ignore[no-any-return]


def bind_after(params: dict[str, object], after: tuple[int, str] | None) -> None:
    """Set the parameters of ``after_position`` (nothing on a first page)."""
    if after is not None:
        params["after_t"], params["after_id"] = after
