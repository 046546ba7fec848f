"""``runnerkit serve`` starting and stopping as a real process: clean exits, one-line start-up
errors, the master key check, the first admin token never lost, ``--workers`` on SQLite: writes
through both, connections spread over both, a killed worker replaced, SIGHUP, the port held."""

from __future__ import annotations

import base64
import http.client
import os
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import threading
import time
from pathlib import Path

from click.testing import CliRunner

from runnerkit.cli import main
from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_connect, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from tests.support.serve_process import run_serve, serving

R = runner_pb2
AWS = rc_pb2.RUNNER_PROVIDER_AWS_EC2
TOKEN = "rk_start-stop-admin-token-" + "1" * 20
AUTH = {"authorization": f"Bearer {TOKEN}"}
ENV = {"RUNNERKIT_ADMIN_TOKEN": TOKEN}


def _client(base_url: str) -> runner_connect.RunnerServiceClientSync:
    return runner_connect.RunnerServiceClientSync(base_url, timeout_ms=20_000)


def _serve_in_process(args: list[str], env: dict[str, str] | None = None):
    """``runnerkit serve ARGS`` through click in this process (for starts that must fail)."""
    result = CliRunner().invoke(main, ["serve", *args], env=env)
    assert isinstance(result.exception, SystemExit), result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def _one_line_error(result, *needles: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_sigterm_exits_0_and_the_db_file_alone_holds_the_data(tmp_path):
    db = tmp_path / "runnerkit.db"
    with serving(["--db", str(db)], ENV) as served, _client(served.base_url) as client:
        ids = {
            client.create_runner(
                R.CreateRunnerRequest(name=f"run{i}", provider=AWS), headers=AUTH
            ).runner.runner_id
            for i in range(5)
        }
        assert (tmp_path / "runnerkit.db-wal").exists()
        for suffix in ("", "-wal", "-shm"):
            assert stat.S_IMODE((tmp_path / f"runnerkit.db{suffix}").stat().st_mode) == 0o600
        assert served.stop() == 0
        assert "Traceback" not in served.stderr()
    copy = tmp_path / "copy" / "runnerkit.db"
    copy.parent.mkdir()
    shutil.copyfile(db, copy)  # the .db file alone, no -wal
    with sqlite3.connect(copy) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM runners")}
    assert stored == ids


def test_port_in_use_is_one_line_and_the_next_start_still_prints_the_admin_token(tmp_path):
    db = tmp_path / "runnerkit.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_serve(["--db", str(db), "--port", str(port)])
    _one_line_error(result, "cannot listen", str(port))
    assert "admin token" not in result.stdout
    assert not db.exists()
    assert not (tmp_path / "runnerkit.db.master-key").exists()
    with serving(["--db", str(db)]) as served:
        token_line = served.line("admin token (shown only this once): rk_")
        assert token_line is not None, served.lines
        token = token_line.split()[-1]
        assert f"export GITPOD_API_KEY={token}" in served.lines
        assert f"export GITPOD_BASE_URL={served.base_url}" in served.lines
        assert served.stop() == 0


def test_usage_errors_and_bad_admin_token(tmp_path):
    bad_port = run_serve(["--db", str(tmp_path / "x.db"), "--port", "99999"])
    assert bad_port.returncode == 2
    assert "--port" in bad_port.stderr
    assert "Traceback" not in bad_port.stderr
    bad_scheme = _serve_in_process(["--db", "mysql://u@h/db", "--port", "0"])
    assert bad_scheme.returncode == 2
    assert "--db" in bad_scheme.stderr
    assert "mysql" in bad_scheme.stderr
    env_scheme = _serve_in_process(["--port", "0"], {"RUNNERKIT_DB": "redis://h"})
    assert env_scheme.returncode == 2
    assert "--db" in env_scheme.stderr
    bad_token = _serve_in_process(
        ["--db", str(tmp_path / "x.db"), "--port", "0"], {"RUNNERKIT_ADMIN_TOKEN": "short"}
    )
    _one_line_error(bad_token, "RUNNERKIT_ADMIN_TOKEN")
    assert not (tmp_path / "x.db").exists()


def test_unreachable_postgres_is_one_line_after_a_bounded_wait():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    result = _serve_in_process(
        [
            "--db",
            f"postgresql://someone:hunter2secret@127.0.0.1:{port}/db",
            "--port",
            "0",
            "--db-wait",
            "1",
        ],
        {"RUNNERKIT_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()},
    )
    _one_line_error(result, "unreachable", "postgresql://someone:***@127.0.0.1")
    assert "hunter2secret" not in result.stderr + result.stdout


def test_postgres_without_a_master_key_is_refused():
    result = _serve_in_process(["--db", "postgresql://u@127.0.0.1:1/db", "--port", "0"])
    _one_line_error(result, "RUNNERKIT_MASTER_KEY", "--master-key-file")


def test_a_database_without_its_master_key_is_refused_and_no_key_is_written(tmp_path):
    db = tmp_path / "runnerkit.db"
    key_file = tmp_path / "runnerkit.db.master-key"
    with serving(["--db", str(db)], ENV) as served, _client(served.base_url) as client:
        runner_id = client.create_runner(
            R.CreateRunnerRequest(name="keep", provider=AWS), headers=AUTH
        ).runner.runner_id
        assert served.stop() == 0
    key = key_file.read_text()
    key_file.unlink()
    lost = _serve_in_process(["--db", str(db), "--port", "0"])
    _one_line_error(lost, "master key", str(key_file))
    assert not key_file.exists()
    other = base64.b64encode(os.urandom(32)).decode()
    wrong = _serve_in_process(["--db", str(db), "--port", "0"], {"RUNNERKIT_MASTER_KEY": other})
    _one_line_error(wrong, "master key does not match")
    assert not key_file.exists()
    other_token = {"RUNNERKIT_ADMIN_TOKEN": "rk_another-token-" + "2" * 20}
    with serving(["--db", str(db)], {"RUNNERKIT_MASTER_KEY": key.strip(), **other_token}) as served:
        note = served.line("existing store")
        assert note is not None
        assert "RUNNERKIT_ADMIN_TOKEN is set but is not a token of this store" in note
        assert "create-token --name" in note
        with _client(served.base_url) as client:
            token = _admin_token(db)
            got = client.get_runner(
                R.GetRunnerRequest(runner_id=runner_id),
                headers={"authorization": f"Bearer {token}"},
            )
            assert got.runner.name == "keep"
        assert served.stop() == 0
    with serving(["--db", str(db)], {"RUNNERKIT_MASTER_KEY": key.strip(), **ENV}) as served:
        assert served.line("admin token: the value of RUNNERKIT_ADMIN_TOKEN") is not None
        assert 'export GITPOD_API_KEY="$RUNNERKIT_ADMIN_TOKEN"' in served.lines
        served.process.send_signal(2)  # SIGINT
        assert served.process.wait(timeout=30) == 0


def _admin_token(db) -> str:
    result = CliRunner().invoke(main, ["admin", "create-token", "--name", "admin", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return result.output.split("token: ")[-1].strip()


def test_two_workers_on_sqlite(tmp_path):
    db = tmp_path / "runnerkit.db"
    with serving(["--db", str(db), "--workers", "2"], ENV) as served:
        assert "(2 workers)" in served.lines[-1]
        created: list[str] = []
        errors: list[BaseException] = []

        def write(n: int) -> None:
            try:
                with _client(served.base_url) as client:
                    for i in range(10):
                        r = client.create_runner(
                            R.CreateRunnerRequest(name=f"writer{n}-{i}", provider=AWS), headers=AUTH
                        )
                        created.append(r.runner.runner_id)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with _client(served.base_url) as client:
            listed = client.list_runners(
                R.ListRunnersRequest(pagination=pagination_pb2.PaginationRequest(page_size=100)),
                headers=AUTH,
            )
            assert {r.runner_id for r in listed.runners} == set(created)
        worker_pids = _children(served.process.pid)
        assert len(worker_pids) >= 2
        assert served.stop() == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM runners").fetchone()[0] == 60


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    try:
        with open(path) as f:  # noqa: PTH123
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _worker_pids(served, pattern: str, count: int = 1) -> list[int]:
    """The pids in the group of the ``count``-th stderr match of ``pattern`` (waits for it)."""
    deadline = time.monotonic() + 60
    while True:
        found = re.findall(pattern, served.stderr())
        if len(found) >= count:
            return [int(pid) for pid in re.findall(r"\d+", found[count - 1])]
        assert time.monotonic() < deadline, served.stderr()
        time.sleep(0.1)


def _connections_by_pid(port: int, pids: list[int]) -> dict[int, int]:
    """How many established TCP connections to ``port`` each process holds (from /proc)."""
    established: set[str] = set()
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            established.add(f"socket:[{fields[9]}]")
    counts = {}
    for pid in pids:
        links = {str(fd.readlink()) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        counts[pid] = len(links & established)
    return counts


def _open_and_call(port: int, count: int) -> list[http.client.HTTPConnection]:
    """``count`` keep-alive connections, each with one answered request, left open."""
    connections = []
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/readyz")
        response = conn.getresponse()
        assert response.status == 200, response.read()
        response.read()
        connections.append(conn)
    return connections


def _close(connections: list[http.client.HTTPConnection]) -> None:
    for conn in connections:
        conn.close()


def test_workers_share_the_connections_survive_a_kill_and_hold_the_port(tmp_path):
    db = tmp_path / "runnerkit.db"
    with serving(["--db", str(db), "--workers", "2"], ENV) as served:
        port = int(served.base_url.rsplit(":", 1)[1])
        workers = _worker_pids(served, r"2 worker processes: (\[[\d, ]+\])")
        assert len(workers) == 2
        connections = _open_and_call(port, 32)
        by_worker = _connections_by_pid(port, workers)
        _close(connections)
        assert sum(by_worker.values()) == 32, by_worker
        assert all(n > 0 for n in by_worker.values()), by_worker  # all on one: p = 2**-31

        # Another server on the same port is refused, with one worker or several.
        for workers_arg in ("1", "2"):
            other = run_serve(
                ["--db", str(tmp_path / "other.db"), "--port", str(port), "--workers", workers_arg]
            )
            _one_line_error(other, "cannot listen", str(port))

        killed = workers[0]
        os.kill(killed, signal.SIGKILL)
        replaced = _worker_pids(
            served, rf"worker process {killed} died \(exit -9\); replaced by (\d+)"
        )
        replacement = replaced[-1]
        assert replacement not in workers
        # New connections hashed to the killed worker's socket wait for its replacement.
        connections = _open_and_call(port, 32)
        by_worker = _connections_by_pid(port, [workers[1], replacement])
        _close(connections)
        assert sum(by_worker.values()) == 32, by_worker
        assert by_worker[replacement] > 0, by_worker

        served.process.send_signal(signal.SIGHUP)
        after_hup = _worker_pids(served, r"worker processes now: (\[[\d, ]+\])")
        assert len(after_hup) == 2
        assert not set(after_hup) & {workers[1], replacement}
        connections = _open_and_call(port, 8)  # open at the stop: the server closes them
        assert served.stop() == 0
        _close(connections)
        for pid in after_hup:
            assert not Path(f"/proc/{pid}").exists()
    # Restarted at once on the same port: the closed connections' TIME_WAIT does not block it.
    with serving(["--db", str(db), "--workers", "2", "--port", str(port)], ENV) as again:
        assert again.base_url == served.base_url
        _close(_open_and_call(port, 4))
        assert again.stop() == 0
