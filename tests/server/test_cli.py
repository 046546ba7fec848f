"""``runnerkit admin`` and ``runnerkit serve`` through click."""

from __future__ import annotations

import uuid

from click.testing import CliRunner

from runnerkit.cli import main
from runnerkit.server.bootstrap import open_sqlite
from runnerkit.server.crypto import hash_token


def _value(output: str, key: str) -> str:
    for line in output.splitlines():
        if line.startswith(key + ": "):
            return line.split(": ", 1)[1]
    raise AssertionError(output)


def test_admin_commands(tmp_path):
    db = str(tmp_path / "admin.db")
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
    cli = CliRunner()
    result = cli.invoke(
        main, ["admin", "create-user", "env"], env={"RUNNERKIT_DB": str(tmp_path / "env.db")}
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env.db").exists()


def test_serve_help():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output
    assert "--db" in result.output
