"""Fixtures of the server tests: ``api`` runs each test over all four transports; ``store``
is a migrated store on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from runnerkit.server.storage import open_store, sqlite_url
from tests.server.harness import KINDS, Api, open_api

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from runnerkit.server.storage.sql import SQLStore


@pytest.fixture(params=KINDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A fresh server and a client on it, once per transport and codec."""
    with open_api(request.param, tmp_path) as api:
        yield api


@pytest.fixture
def inproc(tmp_path: Path) -> Iterator[Api]:
    """A fresh server called in process with the binary codec (for the slower suites)."""
    with open_api("inproc-proto", tmp_path) as api:
        yield api


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "store.db")
        return
    base = sa.make_url(request.getfixturevalue("postgres_url"))
    name = f"rk_{uuid.uuid4().hex}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}"'))
        admin.dispose()


@pytest.fixture
def store(empty_url: str) -> Iterator[SQLStore]:
    """A migrated store on SQLite and on PostgreSQL."""
    opened = open_store(empty_url)
    try:
        yield opened
    finally:
        opened.close()
