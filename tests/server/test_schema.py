"""The schema on both backends: the migrations, the tables that describe them, a new database.

``migrate`` creates an empty database from ``tables.py``/``config_tables.py`` and stamps it
with the head revision (no Alembic); these tests hold that to the schema the Alembic
migrations build, object by object.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from importlib import resources
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from runnerkit.server.storage import (
    config_tables,  # noqa: F401 - registers its tables
    sqlite_url,
)
from runnerkit.server.storage.engine import (
    HEAD_REVISION,
    create_engine,
    create_schema,
    current_revision,
    migrate,
    run_migrations,
)
from runnerkit.server.storage.tables import metadata

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@pytest.fixture
def another_empty_url(
    request: pytest.FixtureRequest, empty_url: str, tmp_path: Path
) -> Iterator[str]:
    """A second empty database on the backend of ``empty_url``."""
    if empty_url.startswith("sqlite"):
        yield sqlite_url(tmp_path / "other.db")
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
def engines() -> Iterator[Callable[[str], sa.Engine]]:
    """Engines made by ``create_engine``, disposed after the test."""
    made: list[sa.Engine] = []

    def make(url: str) -> sa.Engine:
        made.append(create_engine(url))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


def _upgrade_to(engine: sa.Engine, revision: str) -> None:
    """Run the migrations up to ``revision`` only."""
    config = Config()
    location = resources.files("runnerkit.server.storage") / "migrations"
    config.set_main_option("script_location", str(location))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


def _plain(value: object) -> object:
    """A reflected value with SQL expressions (partial index conditions) as their text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, sa.ClauseElement):
        return str(value)
    return value


def _sorted(items: list[Any]) -> list[object]:
    return sorted((_plain(item) for item in items), key=repr)


def _schema(engine: sa.Engine) -> dict[str, dict[str, object]]:
    """Every table's columns (in order), keys, constraints and indexes, as reflected."""
    inspector = sa.inspect(engine)
    schema = {}
    for name in sorted(inspector.get_table_names()):
        columns = [
            (c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("autoincrement"))
            for c in inspector.get_columns(name)
        ]
        schema[name] = {
            "columns": columns,
            "primary_key": _plain(inspector.get_pk_constraint(name)),
            "foreign_keys": _sorted(inspector.get_foreign_keys(name)),
            "indexes": _sorted(inspector.get_indexes(name)),
            "unique": _sorted(inspector.get_unique_constraints(name)),
            "checks": _sorted(inspector.get_check_constraints(name)),
        }
    return schema


def _sqlite_ddl(engine: sa.Engine) -> list[tuple[str, str, str, str | None]]:
    """SQLite's own record of the schema: every object's SQL (identifier quotes dropped).

    Alembic's batch mode (SQLite) recreates a table under a quoted name; nothing else differs.
    """
    path = engine.url.database
    assert path is not None
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    finally:
        conn.close()
    return sorted(
        (t, n, tbl, None if sql is None else sql.replace('"', "")) for t, n, tbl, sql in rows
    )


def test_a_new_database_gets_the_schema_the_migrations_build(
    empty_url: str, another_empty_url: str, engines: Callable[[str], sa.Engine]
):
    """``migrate`` on an empty database equals running every migration: same schema, same head."""
    created, migrated = engines(empty_url), engines(another_empty_url)
    migrate(created)
    run_migrations(migrated)
    assert _schema(created) == _schema(migrated)
    assert "alembic_version" in _schema(created)
    for engine in (created, migrated):
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == HEAD_REVISION
    if created.dialect.name == "sqlite":
        assert _sqlite_ddl(created) == _sqlite_ddl(migrated)


def test_the_schema_comparison_sees_a_difference(
    empty_url: str, another_empty_url: str, engines: Callable[[str], sa.Engine]
):
    """Not vacuous: one migration short, the two schemas differ (a column, an index)."""
    created, migrated = engines(empty_url), engines(another_empty_url)
    create_schema(created)
    _upgrade_to(migrated, "0003_server_meta")
    ours, theirs = _schema(created), _schema(migrated)
    assert ours.keys() == theirs.keys()
    assert ours["runner_policies"] != theirs["runner_policies"]
    assert ours["runners"] == theirs["runners"]


def test_migrations_are_idempotent_and_match_the_tables(
    empty_url: str, engines: Callable[[str], sa.Engine]
):
    """``tables.py``/``config_tables.py`` describe the migrated schema exactly.

    Alembic's autogenerate comparison covers columns and types, nullability, primary and
    foreign keys with their ``ON DELETE`` actions, unique constraints and indexes.
    """
    engine = engines(empty_url)
    run_migrations(engine)
    migrate(engine)  # a second run changes nothing
    run_migrations(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("runners")}
    assert "uq_runners_local_configuration" in indexes


def test_the_comparison_sees_drift(empty_url: str, engines: Callable[[str], sa.Engine]):
    """The comparison is not vacuous: a dropped index and a missing cascade show up."""
    engine = engines(empty_url)
    run_migrations(engine)
    drifted = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    policies = drifted.tables["runner_policies"]
    policies.indexes.clear()
    tokens = drifted.tables["runner_tokens"]
    cascade = next(iter(tokens.foreign_key_constraints))
    cascade.ondelete = None
    for key in cascade.elements:
        key.ondelete = None
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, drifted)
    kinds = {
        (entry[0], getattr(entry[1], "name", None)) for entry in diff if isinstance(entry, tuple)
    }
    assert ("remove_index", "ix_runner_policies_group_order") in kinds
    assert any(kind == "add_fk" for kind, _ in kinds)


def test_head_revision_is_the_newest_migration(empty_url: str, engines: Callable[[str], sa.Engine]):
    """``HEAD_REVISION`` names alembic's head, and a migrated database is at it."""
    location = str(resources.files("runnerkit.server.storage") / "migrations")
    assert ScriptDirectory(location).get_heads() == [HEAD_REVISION]
    engine = engines(empty_url)
    assert current_revision(engine) is None
    run_migrations(engine)
    assert current_revision(engine) == HEAD_REVISION


def test_an_older_database_is_migrated(tmp_path: Path, engines: Callable[[str], sa.Engine]):
    """A database at an older revision (not empty) goes through the migrations to the head."""
    engine = engines(sqlite_url(tmp_path / "old.db"))
    _upgrade_to(engine, "0003_server_meta")
    migrate(engine)
    assert current_revision(engine) == HEAD_REVISION
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("runner_policies")}
    assert "ix_runner_policies_group_order" in indexes
    assert "ix_runner_policies_group" not in indexes


@pytest.mark.parametrize("existing", [False, True], ids=["new", "up-to-date"])
def test_a_new_or_up_to_date_store_opens_without_alembic(tmp_path: Path, existing: bool):
    """Opening a new store or one at the head does not import alembic (server memory)."""
    url = sqlite_url(tmp_path / "s.db")
    if existing:
        engine = create_engine(url)
        try:
            run_migrations(engine)
        finally:
            engine.dispose()
    code = (
        "import sys\n"
        "from runnerkit.server.storage import open_store\n"
        "from runnerkit.server.storage.engine import current_revision\n"
        f"store = open_store({url!r})\n"
        "print(current_revision(store.engine))\n"
        "store.close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == [HEAD_REVISION, "[]"]
