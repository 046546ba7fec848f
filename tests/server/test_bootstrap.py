"""Start-up rules without HTTP: ``--db`` parsing, the master-key check, the start-up lock."""

from __future__ import annotations

import base64
import stat
import threading
import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from runnerkit.server import crypto
from runnerkit.server.bootstrap import StartupError, open_database
from runnerkit.server.settings import parse_db
from runnerkit.server.storage import SQLStore
from runnerkit.server.storage.base import RunnerRecord

if TYPE_CHECKING:
    from pathlib import Path


def _key() -> str:
    return base64.b64encode(crypto.MasterKey(bytes(range(32))).key).decode()


def test_parse_db_forms(tmp_path: Path):
    plain = parse_db(str(tmp_path / "a.db"))
    assert plain.sqlite_path == tmp_path / "a.db"
    assert plain.url == f"sqlite:///{tmp_path / 'a.db'}"
    assert parse_db(f"sqlite:///{tmp_path}/b.db").sqlite_path == tmp_path / "b.db"
    for given in (
        "postgresql://u:pw@h:5432/db",
        "postgresql+psycopg://u:pw@h:5432/db",
        "postgres://u:pw@h:5432/db",
    ):
        pg = parse_db(given)
        assert pg.sqlite_path is None
        assert pg.url == "postgresql+psycopg://u:pw@h:5432/db"
        assert pg.display == "postgresql://u:***@h:5432/db"
    assert parse_db("postgresql://u@h/db").display == "postgresql://u@h/db"
    for bad in ("mysql://u@h/db", "sqlite://", "http://x"):
        with pytest.raises(ValueError, match="sqlite:///"):
            parse_db(bad)


def test_first_start_writes_key_and_verifier_with_private_modes(tmp_path: Path):
    db = parse_db(str(tmp_path / "r.db"))
    opened = open_database(db, environ={}, first_admin=True)
    try:
        assert opened.admin_token is not None
        assert opened.store.get_meta("master_key_verifier") == crypto.verifier(
            crypto.decode_master_key((tmp_path / "r.db.master-key").read_text())
        )
    finally:
        opened.store.close()
    for name in ("r.db", "r.db.master-key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_missing_or_wrong_key_is_refused_and_nothing_is_written(tmp_path: Path):
    db = parse_db(str(tmp_path / "r.db"))
    open_database(db, environ={}).store.close()
    key_file = tmp_path / "r.db.master-key"
    key_file.rename(tmp_path / "saved")
    with pytest.raises(StartupError, match=r"master key file .* is missing"):
        open_database(db, environ={})
    assert not key_file.exists()
    with pytest.raises(StartupError, match="does not match"):
        open_database(db, environ={crypto.MASTER_KEY_ENV: _key()})
    with pytest.raises(StartupError, match="expected base64 of 32 bytes"):
        open_database(db, environ={crypto.MASTER_KEY_ENV: "c2hvcnQ="})
    (tmp_path / "saved").rename(key_file)
    open_database(db, environ={}).store.close()


def test_a_database_from_before_verifiers_is_checked_against_a_runner_key(tmp_path: Path):
    db = parse_db(str(tmp_path / "old.db"))
    right = crypto.MasterKey(bytes(range(32)))
    opened = open_database(db, environ={crypto.MASTER_KEY_ENV: _key()})
    store = opened.store
    pair = crypto.new_runner_key_pair(right)
    store.insert_runner(
        RunnerRecord(
            id=str(uuid.uuid4()),
            name="old",
            kind=1,
            provider=1,
            runner_manager_id="",
            creator_id=str(uuid.uuid4()),
            creator_principal=1,
            spec=b"",
            status=b"",
            public_key=pair.public_key,
            wrapped_private_key=pair.wrapped_private_key,
            metrics_password_sealed=b"",
            created_at=1,
            updated_at=1,
        ),
        [],
    )
    with store.engine.begin() as conn:  # as a database made before 0003_server_meta
        conn.execute(sa.text("DELETE FROM server_meta"))
    store.close()
    other = base64.b64encode(bytes(32)).decode()
    with pytest.raises(StartupError, match="does not match"):
        open_database(db, environ={crypto.MASTER_KEY_ENV: other})
    open_database(db, environ={crypto.MASTER_KEY_ENV: _key()}).store.close()


def test_postgres_needs_a_given_key():
    with pytest.raises(StartupError, match="RUNNERKIT_MASTER_KEY or --master-key-file"):
        open_database(parse_db("postgresql://u@127.0.0.1:1/db"), environ={})


def test_simultaneous_first_starts_on_sqlite_make_one_admin(tmp_path: Path):
    db = parse_db(str(tmp_path / "race.db"))
    tokens: list[str | None] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            opened = open_database(db, environ={}, first_admin=True)
            tokens.append(opened.admin_token)
            opened.store.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len([t for t in tokens if t is not None]) == 1
    store = SQLStore(sa.create_engine(db.url))
    try:
        assert store.count_subjects() == 1
    finally:
        store.close()
