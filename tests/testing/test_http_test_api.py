"""The test controls over HTTP: ``runnerkit serve --test-api`` (and their absence without it)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from typing import Any

from click.testing import CliRunner

from runnerkit.cli.serve import serve as cli_serve
from runnerkit.testing import LocalRunnerAPI

ADMIN = "rk_http-test-admin-token-0123456789"
USER = "user-token-0123456789abc"
RUNNER_ID = "11111111-2222-4333-8444-555555555555"
SEED = textwrap.dedent(f"""\
    users:
      - {{name: user, token: {USER}}}
    runners:
      - {{id: {RUNNER_ID}, name: seeded, provider: RUNNER_PROVIDER_GCP}}
    """)


@contextlib.contextmanager
def serve(tmp_path, *flags):
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RUNNERKIT_ADMIN_TOKEN": ADMIN}
    args = ["--port", "0", "--db", str(tmp_path / "t.db"), "--seed", str(seed), *flags]
    process = subprocess.Popen(
        [sys.executable, "-m", "runnerkit.server", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert process.stdout is not None
    try:
        first = process.stdout.readline()
        assert first.startswith("runnerkit reference server on "), first
        yield first.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def call(
    base: str,
    method: str,
    path: str,
    body: object = None,
    token: str | None = ADMIN,
    *,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def rpc(base: str, name: str, body: object, token: str = ADMIN) -> tuple[int, Any]:
    return call(base, "POST", f"/gitpod.v1.RunnerService/{name}", body, token)


def test_without_test_api_the_paths_do_not_exist(tmp_path):
    with serve(tmp_path) as base:
        for method, path in [("POST", "/_runnerkit/reset"), ("GET", "/_runnerkit/requests")]:
            status, body = call(base, method, path, {})
            assert status == 404
            assert body["code"] == "unimplemented"
        assert rpc(base, "GetRunner", {"runnerId": RUNNER_ID})[0] == 200  # the seed is there


def test_test_api_controls(tmp_path):  # noqa: PLR0915 - one tour of every control
    with serve(tmp_path, "--test-api", "--fake-scm") as base:
        assert call(base, "GET", "/_runnerkit/requests", token=None)[0] == 401
        assert call(base, "GET", "/_runnerkit/requests", token=USER)[0] == 403
        assert call(base, "GET", "/_runnerkit/nope")[0] == 404
        assert call(base, "PUT", "/_runnerkit/reset", {})[0] == 405

        # journal
        assert call(base, "DELETE", "/_runnerkit/requests")[0] == 200
        rpc(base, "GetRunner", {"runnerId": RUNNER_ID})
        status, body = call(base, "GET", "/_runnerkit/requests")
        assert status == 200
        [entry] = body["requests"]
        assert (entry["rpc"], entry["code"], entry["protocol"]) == ("GetRunner", "ok", "connect")
        assert entry["subject_id"]
        assert ADMIN not in json.dumps(body)

        # faults
        status, body = call(
            base,
            "POST",
            "/_runnerkit/faults",
            {"rpc": "GetRunner", "code": "unavailable", "times": 1},
        )
        assert status == 200
        assert body["fault"]["code"] == "unavailable"
        assert (
            call(base, "POST", "/_runnerkit/faults", {"rpc": "GetRunner", "code": "bogus"})[0]
            == 400
        )
        assert (
            call(base, "POST", "/_runnerkit/faults", {"nope": 1})[1]["code"] == "invalid_argument"
        )
        assert len(call(base, "GET", "/_runnerkit/faults")[1]["faults"]) == 1
        status, body = rpc(base, "GetRunner", {"runnerId": RUNNER_ID})
        assert (status, body["code"]) == (503, "unavailable")
        assert rpc(base, "GetRunner", {"runnerId": RUNNER_ID})[0] == 200
        call(base, "POST", "/_runnerkit/faults", {"code": "internal", "times": None})
        assert call(base, "DELETE", "/_runnerkit/faults")[0] == 200
        assert rpc(base, "GetRunner", {"runnerId": RUNNER_ID})[0] == 200

        # runner status
        status, body = call(
            base, "POST", "/_runnerkit/runners/status", {"runner_id": RUNNER_ID, "version": "9.9"}
        )
        assert status == 200
        assert body["runner"]["status"]["phase"] == "RUNNER_PHASE_ACTIVE"
        assert (
            rpc(base, "GetRunner", {"runnerId": RUNNER_ID})[1]["runner"]["status"]["version"]
            == "9.9"
        )
        assert (
            call(
                base, "POST", "/_runnerkit/runners/status", {"runner_id": RUNNER_ID, "phase": "UP"}
            )[0]
            == 400
        )

        # snapshot, change, restore
        status, snapshot = call(base, "GET", "/_runnerkit/snapshot")
        assert status == 200
        assert snapshot["format"] == "runnerkit-snapshot/1"
        token = rpc(base, "CreateRunnerToken", {"runnerId": RUNNER_ID})[1]["exchangeToken"]
        rpc(base, "DeleteRunner", {"runnerId": RUNNER_ID})
        assert rpc(base, "GetRunner", {"runnerId": RUNNER_ID})[0] == 404
        assert call(base, "POST", "/_runnerkit/restore", snapshot)[0] == 200
        assert rpc(base, "GetRunner", {"runnerId": RUNNER_ID})[0] == 200
        assert call(base, "POST", "/_runnerkit/restore", raw=b"garbage")[0] == 400

        # clock: the exchange token of a deleted-then-restored runner was never stored; make one
        token = rpc(base, "CreateRunnerToken", {"runnerId": RUNNER_ID})[1]["exchangeToken"]
        status, body = call(base, "POST", "/_runnerkit/clock/advance", {"hours": 25})
        assert status == 200
        assert body["offset_seconds"] == 25 * 3600
        status, body = call(base, "POST", "/_runnerkit/runners/exchange", {"exchange_token": token})
        assert (status, body["code"]) == (400, "invalid_argument")
        assert call(base, "POST", "/_runnerkit/clock/advance", {"seconds": -5})[0] == 400

        # reset: back to the seeded state, the admin token still valid, the clock back
        rpc(base, "CreateRunner", {"name": "extra", "provider": "RUNNER_PROVIDER_GCP"})
        assert call(base, "POST", "/_runnerkit/reset")[0] == 200
        runners = rpc(base, "ListRunners", {})[1]["runners"]
        assert [r["name"] for r in runners] == ["seeded"]
        assert call(base, "GET", "/_runnerkit/clock")[1]["offset_seconds"] == 0
        token = rpc(base, "CreateRunnerToken", {"runnerId": RUNNER_ID})[1]["exchangeToken"]
        status, body = call(base, "POST", "/_runnerkit/runners/exchange", {"exchange_token": token})
        assert (status, body) == (200, {"runner_id": RUNNER_ID})
        logs = rpc(base, "CreateRunnerLogsToken", {"runnerId": RUNNER_ID})[1]["accessToken"]
        check = {"access_token": logs}
        assert call(base, "POST", "/_runnerkit/runners/logs-token", check)[1] == {
            "runner_id": RUNNER_ID
        }
        call(base, "POST", "/_runnerkit/clock/advance", {"minutes": 61})
        assert call(base, "POST", "/_runnerkit/runners/logs-token", check)[0] == 400


def test_seed_on_a_store_with_data_needs_reset(tmp_path):
    db = tmp_path / "t.db"
    old = {"runners": [{"name": "old", "provider": "RUNNER_PROVIDER_GCP"}]}
    with LocalRunnerAPI(db=db, seed=old, admin_token=ADMIN) as api:
        assert api.admin_token == ADMIN
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    bad = tmp_path / "bad.yaml"
    bad.write_text("runners:\n  - name: x\n    provider: NOPE\n")
    runner = CliRunner()
    refused = runner.invoke(cli_serve, ["--port", "0", "--db", str(db), "--seed", str(seed)])
    assert refused.exit_code == 1
    assert "already has data" in refused.output
    invalid = runner.invoke(cli_serve, ["--port", "0", "--db", str(db), "--seed", str(bad)])
    assert invalid.exit_code == 1
    assert "bad.yaml:3: runners[0].provider" in invalid.output
    lonely = runner.invoke(cli_serve, ["--port", "0", "--db", str(db), "--reset"])
    assert lonely.exit_code == 2
    assert "--reset" in lonely.output
    with serve(tmp_path, "--reset") as base:
        assert [r["name"] for r in rpc(base, "ListRunners", {})[1]["runners"]] == ["seeded"]
