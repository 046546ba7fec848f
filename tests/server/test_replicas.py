"""Replicas on one PostgreSQL database: real ``runnerkit serve`` processes started together.

Replica A runs one worker, replica B ``--workers 2``; both start at the same moment on an empty
database (migrations and the first admin serialised by the advisory lock). The last test
kills A with SIGKILL under write load.
"""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from connectrpc.code import Code
from connectrpc.errors import ConnectError

from runnerkit.cli import main
from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_connect, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from tests.support.serve_process import Served, start_serve

if TYPE_CHECKING:
    from collections.abc import Iterator

R = runner_pb2
AWS = rc_pb2.RUNNER_PROVIDER_AWS_EC2
TOKEN = "rk_replica-admin-token-" + "3" * 20
AUTH = {"authorization": f"Bearer {TOKEN}"}


class Replicas:
    def __init__(self, url: str, a: Served, b: Served) -> None:
        self.url = url
        self.a = a
        self.b = b


@pytest.fixture(scope="module")
def database(postgres_url: str) -> Iterator[str]:
    base = sa.make_url(postgres_url)
    name = f"rk_replicas_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        # postgresql:// (no driver): serve normalises it to psycopg
        yield base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def replicas(database: str) -> Iterator[Replicas]:
    env = {
        "RUNNERKIT_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "RUNNERKIT_ADMIN_TOKEN": TOKEN,
    }
    started: dict[str, Served] = {}
    errors: list[BaseException] = []

    def start(name: str, args: list[str]) -> None:
        try:
            started[name] = start_serve(["--db", database, *args], env)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=start, args=("a", [])),
        threading.Thread(target=start, args=("b", ["--workers", "2"])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == [], errors
        yield Replicas(database, started["a"], started["b"])
    finally:
        for served in started.values():
            if served.process.poll() is None:
                served.stop()
            if served.process.stdout is not None:
                served.process.stdout.close()


def _client(base_url: str) -> runner_connect.RunnerServiceClientSync:
    return runner_connect.RunnerServiceClientSync(base_url, timeout_ms=20_000)


def _all_runners(client: runner_connect.RunnerServiceClientSync) -> list[str]:
    ids, token = [], ""
    while True:
        page = client.list_runners(
            R.ListRunnersRequest(
                pagination=pagination_pb2.PaginationRequest(page_size=100, token=token)
            ),
            headers=AUTH,
        )
        ids += [r.runner_id for r in page.runners]
        token = page.pagination.next_token
        if not token:
            return ids


def test_both_replicas_come_up_with_one_admin(replicas: Replicas):
    for served in (replicas.a, replicas.b):
        assert served.line("admin token: the value of RUNNERKIT_ADMIN_TOKEN") is not None
        store_line = served.lines[-1]
        assert store_line.startswith("store: postgresql://")
    assert "(2 workers)" in replicas.b.lines[-1]
    engine = sa.create_engine(replicas.url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM subjects")).scalar_one() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM server_meta")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_runner_created_on_one_is_read_updated_and_deleted_on_the_other(replicas: Replicas):
    with _client(replicas.a.base_url) as a, _client(replicas.b.base_url) as b:
        created = a.create_runner(R.CreateRunnerRequest(name="shared", provider=AWS), headers=AUTH)
        rid = created.runner.runner_id
        assert b.get_runner(R.GetRunnerRequest(runner_id=rid), headers=AUTH).runner.name == "shared"
        b.update_runner(R.UpdateRunnerRequest(runner_id=rid, name="renamed"), headers=AUTH)
        assert a.get_runner(R.GetRunnerRequest(runner_id=rid), headers=AUTH).runner.name == (
            "renamed"
        )
        assert b.create_runner_token(
            R.CreateRunnerTokenRequest(runner_id=rid), headers=AUTH
        ).exchange_token
        b.delete_runner(R.DeleteRunnerRequest(runner_id=rid), headers=AUTH)
        with pytest.raises(ConnectError) as missing:
            a.get_runner(R.GetRunnerRequest(runner_id=rid), headers=AUTH)
        assert missing.value.code == Code.NOT_FOUND


def test_page_tokens_from_one_replica_work_on_the_other(replicas: Replicas):
    with _client(replicas.a.base_url) as a, _client(replicas.b.base_url) as b:
        for i in range(5):
            a.create_runner(R.CreateRunnerRequest(name=f"page{i}", provider=AWS), headers=AUTH)
        everything = _all_runners(a)
        seen, token, use_a = [], "", True
        while True:
            client = a if use_a else b
            page = client.list_runners(
                R.ListRunnersRequest(
                    pagination=pagination_pb2.PaginationRequest(page_size=2, token=token)
                ),
                headers=AUTH,
            )
            seen += [r.runner_id for r in page.runners]
            token, use_a = page.pagination.next_token, not use_a
            if not token:
                break
        assert seen == everything


def test_eight_concurrent_writers_through_both_lose_nothing(replicas: Replicas):
    acknowledged: list[str] = []
    errors: list[BaseException] = []
    with _client(replicas.a.base_url) as a:
        target = a.create_runner(
            R.CreateRunnerRequest(name="policies", provider=AWS), headers=AUTH
        ).runner.runner_id
    groups: list[str] = []

    def write(n: int) -> None:
        base_url = (replicas.a if n % 2 else replicas.b).base_url
        try:
            with _client(base_url) as c:
                for i in range(8):
                    r = c.create_runner(
                        R.CreateRunnerRequest(name=f"writer{n}-{i}", provider=AWS), headers=AUTH
                    )
                    acknowledged.append(r.runner.runner_id)
                    group = str(uuid.uuid4())
                    c.create_runner_policy(
                        R.CreateRunnerPolicyRequest(
                            runner_id=target, group_id=group, role=R.RUNNER_ROLE_USER
                        ),
                        headers=AUTH,
                    )
                    groups.append(group)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(acknowledged) == 64
    with _client(replicas.b.base_url) as b:
        assert set(acknowledged) <= set(_all_runners(b))
        policies = b.list_runner_policies(
            R.ListRunnerPoliciesRequest(
                runner_id=target, pagination=pagination_pb2.PaginationRequest(page_size=100)
            ),
            headers=AUTH,
        )
        assert {p.group_id for p in policies.policies} == set(groups)


def test_racing_creates_of_one_unique_key_have_one_winner(replicas: Replicas):
    outcomes: list[object] = []
    barrier = threading.Barrier(8)

    def create(n: int) -> None:
        base_url = (replicas.a if n % 2 else replicas.b).base_url
        with _client(base_url) as c:
            barrier.wait()
            try:
                c.create_runner(
                    R.CreateRunnerRequest(
                        name=f"local{n}", kind=rc_pb2.RUNNER_KIND_LOCAL_CONFIGURATION
                    ),
                    headers=AUTH,
                )
                outcomes.append("created")
            except ConnectError as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, outcomes)).count("created") == 1
    assert outcomes.count(Code.ALREADY_EXISTS) == 7


def test_admin_commands_on_postgres(replicas: Replicas):
    cli = CliRunner()
    db = ["--db", replicas.url]
    made = cli.invoke(main, ["admin", "create-user", "pg-user", "--runner-creator", *db])
    assert made.exit_code == 0, made.output
    token = made.output.split("token: ")[-1].strip()
    subject = made.output.split("subject_id: ")[1].split()[0]
    listed = cli.invoke(main, ["admin", "list-users", *db])
    assert f"{subject}\tuser\tpg-user\trunner-creator\t1\t-" in listed.output
    headers = {"authorization": f"Bearer {token}"}
    with _client(replicas.b.base_url) as b:
        b.list_runners(R.ListRunnersRequest(), headers=headers)
        revoked = cli.invoke(main, ["admin", "revoke-token", "--subject", subject, *db])
        assert revoked.exit_code == 0, revoked.output
        assert "revoked 1 token(s)" in revoked.output
        time.sleep(2.5)  # the servers' token cache (2 s) forgets the token
        with pytest.raises(ConnectError) as denied:
            b.list_runners(R.ListRunnersRequest(), headers=headers)
        assert denied.value.code == Code.UNAUTHENTICATED
    missing = cli.invoke(
        main, ["admin", "list-users", "--db", replicas.url.rsplit("/", 1)[0] + "/rk_missing_db"]
    )
    assert missing.exit_code == 1
    assert len(missing.output.strip().splitlines()) == 1


def test_kill_9_of_one_replica_under_write_load_loses_no_acknowledged_write(replicas: Replicas):
    acknowledged: list[str] = []
    on_b: list[str] = []
    b_errors: list[BaseException] = []
    killed = threading.Event()

    def write_a() -> None:
        with _client(replicas.a.base_url) as c:
            try:
                for i in range(100_000):
                    r = c.create_runner(
                        R.CreateRunnerRequest(name=f"kill{i}", provider=AWS), headers=AUTH
                    )
                    acknowledged.append(r.runner.runner_id)
            except (ConnectError, OSError):
                return

    def write_b() -> None:  # the other replica keeps serving through the kill
        with _client(replicas.b.base_url) as c:
            try:
                after_kill = 0
                while after_kill < 3:
                    was_killed = killed.is_set()
                    r = c.create_runner(
                        R.CreateRunnerRequest(name="bee", provider=AWS), headers=AUTH
                    )
                    on_b.append(r.runner.runner_id)
                    after_kill += was_killed
            except BaseException as exc:  # noqa: BLE001 - reported below
                b_errors.append(exc)

    writers = [threading.Thread(target=write_a) for _ in range(3)]
    writers.append(threading.Thread(target=write_b))
    for w in writers:
        w.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    replicas.a.kill()
    killed.set()
    for w in writers:
        w.join(timeout=60)
    assert len(acknowledged) >= 30
    assert b_errors == []
    assert len(on_b) >= 3
    with _client(replicas.b.base_url) as b:
        stored = _all_runners(b)
        assert set(acknowledged) | set(on_b) <= set(stored)
        after = b.create_runner(R.CreateRunnerRequest(name="after", provider=AWS), headers=AUTH)
        assert after.runner.runner_id not in stored
