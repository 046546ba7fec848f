"""``runnerkit admin`` and ``runnerkit serve`` through click."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import TYPE_CHECKING

from click.testing import CliRunner

from runnerkit.cli import main
from runnerkit.server.bootstrap import open_sqlite
from runnerkit.server.crypto import hash_token

if TYPE_CHECKING:
    from pathlib import Path


def _value(output: str, key: str) -> str:
    for line in output.splitlines():
        if line.startswith(key + ": "):
            return line.split(": ", 1)[1]
    raise AssertionError(output)


def _new_store(path: Path) -> None:
    store, _ = open_sqlite(path, environ={})
    store.close()


def test_admin_commands(tmp_path):
    db = str(tmp_path / "admin.db")
    _new_store(tmp_path / "admin.db")
    cli = CliRunner()
    group = cli.invoke(main, ["admin", "new-group"]).output.strip()
    uuid.UUID(group)
    created = cli.invoke(
        main, ["admin", "create-user", "alice", "--runner-creator", "--group", group, "--db", db]
    )
    assert created.exit_code == 0, created.output
    subject_id, token = _value(created.output, "subject_id"), _value(created.output, "token")
    more = cli.invoke(main, ["admin", "create-token", subject_id, "--db", db])
    second = _value(more.output, "token")
    other_group = str(uuid.uuid4())
    assert (
        cli.invoke(main, ["admin", "add-group", subject_id, other_group, "--db", db]).exit_code == 0
    )
    service = cli.invoke(main, ["admin", "create-user", "bot", "--service-account", "--db", db])
    assert service.exit_code == 0
    store, _ = open_sqlite(tmp_path / "admin.db", environ={})
    try:
        for t in (token, second):
            subject = store.subject_for_token(hash_token(t))
            assert subject is not None
            assert subject.id == subject_id
            assert subject.runner_creator
            assert subject.group_ids == {group, other_group}
    finally:
        store.close()
    bad = cli.invoke(main, ["admin", "add-group", subject_id, "not-a-group", "--db", db])
    assert bad.exit_code == 2
    assert "group_id" in bad.output
    missing = cli.invoke(main, ["admin", "create-token", str(uuid.uuid4()), "--db", db])
    assert missing.exit_code == 2


def test_db_from_environment(tmp_path):
    _new_store(tmp_path / "env.db")
    cli = CliRunner()
    result = cli.invoke(
        main, ["admin", "create-user", "env"], env={"RUNNERKIT_DB": str(tmp_path / "env.db")}
    )
    assert result.exit_code == 0, result.output
    listed = cli.invoke(
        main, ["admin", "list-users"], env={"RUNNERKIT_DB": str(tmp_path / "env.db")}
    )
    assert "\tenv\t" in listed.output


def test_admin_refuses_a_database_that_does_not_exist(tmp_path):
    cli = CliRunner()
    for args in (
        ["admin", "create-user", "bob"],
        ["admin", "list-users"],
        ["admin", "create-token", "--name", "admin"],
        ["admin", "revoke-token", "--subject", str(uuid.uuid4())],
    ):
        result = cli.invoke(main, [*args, "--db", str(tmp_path / "nope.db")])
        assert result.exit_code == 1, result.output
        assert "no database at" in result.output
        assert "--db" in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "nope.db").exists()
    bad = cli.invoke(main, ["admin", "list-users", "--db", "mysql://x@y/z"])
    assert bad.exit_code == 2
    assert "--db" in bad.output


def test_list_users_create_token_by_name_and_revoke(tmp_path):
    _new_store(tmp_path / "r.db")
    db = ["--db", f"sqlite:///{tmp_path / 'r.db'}"]
    cli = CliRunner()
    created = cli.invoke(main, ["admin", "create-user", "carol", "--org-admin", *db])
    carol, first = _value(created.output, "subject_id"), _value(created.output, "token")
    again = cli.invoke(main, ["admin", "create-token", "--name", "carol", *db])
    assert again.exit_code == 0, again.output
    assert _value(again.output, "subject_id") == carol
    second = _value(again.output, "token")
    listed = cli.invoke(main, ["admin", "list-users", *db]).output.splitlines()
    assert listed[0].split("\t")[:3] == ["SUBJECT_ID", "KIND", "NAME"]
    assert [carol, "user", "carol", "org-admin", "2", "-"] in [line.split("\t") for line in listed]
    unknown = cli.invoke(main, ["admin", "create-token", "--name", "nobody", *db])
    assert unknown.exit_code == 2
    assert "nobody" in unknown.output
    both = cli.invoke(main, ["admin", "create-token", carol, "--name", "carol", *db])
    assert both.exit_code == 2

    revoked = cli.invoke(main, ["admin", "revoke-token", "-", *db], input=first + "\n")
    assert revoked.exit_code == 0, revoked.output
    assert carol in revoked.output
    twice = cli.invoke(main, ["admin", "revoke-token", first, *db])
    assert twice.exit_code == 1
    store, _ = open_sqlite(tmp_path / "r.db", environ={})
    try:
        assert store.subject_for_token(hash_token(first)) is None
        assert store.subject_for_token(hash_token(second)) is not None
    finally:
        store.close()
    cli.invoke(main, ["admin", "create-token", carol, *db])
    all_of = cli.invoke(main, ["admin", "revoke-token", "--subject", carol, *db])
    assert all_of.exit_code == 0, all_of.output
    assert "revoked 2 token(s)" in all_of.output
    store, _ = open_sqlite(tmp_path / "r.db", environ={})
    try:
        assert store.subject_for_token(hash_token(second)) is None
        assert store.get_subject(carol) is not None  # the subject stays
    finally:
        store.close()


def test_serve_help():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output
    assert "--db" in result.output


def test_serve_loads_the_testing_kit_only_for_a_server_for_tests(tmp_path: Path):
    """A plain ``serve`` does not import ``runnerkit.testing`` (YAML, fakes: server memory)."""
    code = (
        "import socket, sys\n"
        "from click.testing import CliRunner\n"
        "from runnerkit.cli import main\n"
        "taken = socket.socket()\n"
        "taken.bind(('127.0.0.1', 0))\n"
        "taken.listen()\n"
        "port = str(taken.getsockname()[1])\n"
        "args = ['serve', '--port', port, '--db', sys.argv[1]] + sys.argv[2:]\n"
        "result = CliRunner().invoke(main, args)\n"
        "print(result.exit_code, 'cannot listen' in result.output,"
        " any(m.startswith('runnerkit.testing') for m in sys.modules))\n"
    )
    db = str(tmp_path / "s.db")
    for extra, loaded in (([], "False"), (["--test-api"], "True")):
        out = subprocess.run(
            [sys.executable, "-c", code, db, *extra], capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == ["1", "True", loaded]
