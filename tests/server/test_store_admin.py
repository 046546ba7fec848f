"""The store's administration methods on SQLite and PostgreSQL: list, revoke, server metadata."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from runnerkit.server.domain.errors import NotFoundError
from runnerkit.server.storage import open_store, sqlite_url
from runnerkit.server.storage.base import SubjectRecord

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from runnerkit.server.storage import SQLStore


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLStore]:
    if request.param == "sqlite":
        opened = open_store(sqlite_url(tmp_path / "admin.db"))
        yield opened
        opened.close()
        return
    base = sa.make_url(request.getfixturevalue("postgres_url"))
    name = f"rk_admin_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    opened = open_store(base.set(database=name).render_as_string(hide_password=False))
    try:
        yield opened
    finally:
        opened.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}"'))
        admin.dispose()


def _subject(name: str, *, admin: bool = False) -> SubjectRecord:
    return SubjectRecord(id=str(uuid.uuid4()), principal=1, name=name, org_admin=admin)


def test_list_and_revoke(store: SQLStore):
    assert store.is_empty()
    first, second = _subject("first", admin=True), _subject("second")
    group = str(uuid.uuid4())
    store.create_subject(first, ["a1", "a2"], now=1)
    store.create_subject(
        SubjectRecord(id=second.id, principal=2, name="second", group_ids=frozenset({group})),
        ["b1"],
        now=2,
    )
    assert not store.is_empty()
    listed = store.list_subjects()
    assert [(s.subject.name, s.token_count) for s in listed] == [("first", 2), ("second", 1)]
    assert listed[0].subject.org_admin
    assert listed[1].subject.group_ids == {group}
    assert listed[1].subject.principal == 2

    assert store.revoke_api_token("a1") == first.id
    assert store.revoke_api_token("a1") is None
    assert store.subject_for_token("a1") is None
    assert store.subject_for_token("a2") is not None
    assert store.revoke_subject_tokens(first.id) == 1
    assert store.revoke_subject_tokens(first.id) == 0
    assert store.subject_for_token("a2") is None
    assert store.subject_for_token("b1") is not None
    assert store.get_subject(first.id) is not None
    with pytest.raises(NotFoundError):
        store.revoke_subject_tokens(str(uuid.uuid4()))


def test_server_meta(store: SQLStore):
    assert store.get_meta("x") is None
    store.set_meta("x", "1")
    store.set_meta("x", "2")
    assert store.get_meta("x") == "2"
    assert store.any_wrapped_private_key() is None
