"""The server as a real process: SIGKILL during writes loses nothing acknowledged, SIGTERM
shuts down cleanly, and nothing secret is in the database files in plain text."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING

from connectrpc.errors import ConnectError

from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_connect, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from tests.support.server import create_user, db_path, running_server

R = runner_pb2
AWS = rc_pb2.RUNNER_PROVIDER_AWS_EC2
if TYPE_CHECKING:
    from pathlib import Path

ADMIN_TOKEN = "rk_crash-test-admin-token-" + "0" * 20


@contextmanager
def server_process(directory, stderr=subprocess.DEVNULL, *, admin_token=ADMIN_TOKEN, lines=None):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if admin_token:
        env["RUNNERKIT_ADMIN_TOKEN"] = admin_token
    process = subprocess.Popen(
        [sys.executable, "-m", "runnerkit.server", "--db", str(db_path(directory)), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        text=True,
    )
    assert process.stdout is not None
    try:
        first = process.stdout.readline()
        assert first.startswith("runnerkit reference server on "), first
        base_url = first.split()[-1]
        rest = [process.stdout.readline(), process.stdout.readline()]
        if lines is not None:
            lines += rest
        for line in rest:
            assert ADMIN_TOKEN not in line  # a token from the environment is not echoed
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        process.stdout.close()


def _client(base_url: str) -> runner_connect.RunnerServiceClientSync:
    return runner_connect.RunnerServiceClientSync(base_url, timeout_ms=10_000)


AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}


def test_sigkill_during_writes_loses_no_acknowledged_write(tmp_path):  # noqa: PLR0915 - one end-to-end scenario
    acknowledged: list[str] = []
    policies: list[tuple[str, str]] = []
    with server_process(tmp_path) as (process, base_url):
        client = _client(base_url)
        first = client.create_runner(
            R.CreateRunnerRequest(name="seed", provider=AWS), headers=AUTH
        ).runner.runner_id

        def write_runners():
            with _client(base_url) as c:
                try:
                    for i in range(100_000):
                        r = c.create_runner(
                            R.CreateRunnerRequest(name=f"runner{i}", provider=AWS), headers=AUTH
                        )
                        acknowledged.append(r.runner.runner_id)
                except (ConnectError, OSError):
                    return

        def write_policies():
            with _client(base_url) as c:
                try:
                    for _ in range(100_000):
                        group = str(uuid.uuid4())
                        c.create_runner_policy(
                            R.CreateRunnerPolicyRequest(
                                runner_id=first, group_id=group, role=R.RUNNER_ROLE_USER
                            ),
                            headers=AUTH,
                        )
                        policies.append((first, group))
                except (ConnectError, OSError):
                    return

        writers = [threading.Thread(target=write_runners), threading.Thread(target=write_policies)]
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        for writer in writers:
            writer.join(timeout=30)
        client.close()
    assert len(acknowledged) >= 40

    with sqlite3.connect(db_path(tmp_path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

    with server_process(tmp_path) as (_, base_url), _client(base_url) as client:
        stored, token = [], ""
        while True:
            page = client.list_runners(
                R.ListRunnersRequest(
                    pagination=pagination_pb2.PaginationRequest(page_size=100, token=token)
                ),
                headers=AUTH,
            )
            stored += [r.runner_id for r in page.runners]
            token = page.pagination.next_token
            if not token:
                break
        assert len(stored) == len(set(stored))
        assert set(acknowledged) | {first} <= set(stored)
        # at most the writes in flight when the process died are stored unacknowledged
        assert len(stored) - len(acknowledged) - 1 <= 1
        groups = set()
        token = ""
        while True:
            policy_page = client.list_runner_policies(
                R.ListRunnerPoliciesRequest(
                    runner_id=first,
                    pagination=pagination_pb2.PaginationRequest(page_size=100, token=token),
                ),
                headers=AUTH,
            )
            groups |= {p.group_id for p in policy_page.policies}
            token = policy_page.pagination.next_token
            if not token:
                break
        assert {g for _, g in policies} <= groups
        assert len(groups) - len(policies) <= 1
        fresh = client.create_runner(
            R.CreateRunnerRequest(name="after", provider=AWS), headers=AUTH
        )
        assert fresh.runner.runner_id not in stored


def test_nothing_secret_in_the_database_files(tmp_path):
    secrets: list[str] = []
    with running_server(tmp_path) as (base_url, admin_token):
        secrets.append(admin_token)
        _, user_token = create_user(tmp_path, name="someone", runner_creator=True)
        secrets.append(user_token)
        auth = {"authorization": f"Bearer {user_token}"}
        with runner_connect.RunnerServiceClientSync(base_url) as client:
            for i in range(3):
                created = client.create_runner(
                    R.CreateRunnerRequest(name=f"runner{i}", provider=AWS), headers=auth
                )
                rid = created.runner.runner_id
                secrets.append(created.exchange_token)
                secrets.append(
                    client.create_runner_token(
                        R.CreateRunnerTokenRequest(runner_id=rid), headers=auth
                    ).exchange_token
                )
                secrets.append(
                    client.create_runner_logs_token(
                        R.CreateRunnerLogsTokenRequest(runner_id=rid), headers=auth
                    ).access_token
                )
                honeycomb, password = (
                    f"honeycomb-secret-{uuid.uuid4()}",
                    f"metrics-password-{uuid.uuid4()}",
                )
                secrets += [honeycomb, password]
                config = R.UpdateRunnerRequest.RunnerConfiguration(
                    honeycomb_api_key=honeycomb,
                    metrics=R.UpdateRunnerRequest.MetricsConfiguration(password=password),
                )
                client.update_runner(
                    R.UpdateRunnerRequest(
                        runner_id=rid, spec=R.UpdateRunnerRequest.Spec(configuration=config)
                    ),
                    headers=auth,
                )
        files = sorted(tmp_path.glob("runnerkit.db*"))
        assert any(f.name.endswith("-wal") for f in files)
        _assert_absent(files, secrets)
    _assert_absent(sorted(tmp_path.glob("runnerkit.db*")), secrets)
    master_key = (tmp_path / "runnerkit.db.master-key").stat()
    assert master_key.st_mode & 0o777 == 0o600


def _assert_absent(files: list[Path], secrets: list[str]) -> None:
    contents = b"".join(f.read_bytes() for f in files if not f.name.endswith(".master-key"))
    assert contents
    for secret in secrets:
        assert secret.encode() not in contents, secret[:8]
        assert secret.split("_", 1)[-1].encode() not in contents


def test_first_start_prints_a_generated_admin_token_once(tmp_path):
    first: list[str] = []
    with server_process(tmp_path, admin_token=None, lines=first) as (process, base_url):
        assert first[0].startswith("admin token (shown only this once): rk_")
        token = first[0].split()[-1]
        assert token in first[1]  # the curl line
        with _client(base_url) as client:
            client.list_runners(
                R.ListRunnersRequest(), headers={"authorization": f"Bearer {token}"}
            )
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    again: list[str] = []
    with server_process(tmp_path, admin_token=None, lines=again):
        assert token not in "".join(again)
        assert again[0].startswith("existing store")
