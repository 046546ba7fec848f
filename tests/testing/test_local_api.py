"""LocalRunnerAPI through its public API: isolation, snapshots, journal, clock, runner status.

Most tests use the plugin's own ``runner_api`` fixture (one server for the session, reset
before each test), which is what a user's tests do.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

import runnerkit
from runnerkit.testing import LocalRunnerAPI, TokenRejectedError

GROUP = "7d6f9c1e-0000-4000-8000-000000000001"


def _runner(client: runnerkit.Client, name: str = "build") -> str:
    created = client.runners.create(name=name, provider="RUNNER_PROVIDER_AWS_EC2")
    return str(created.runner.runner_id)


def test_reset_between_tests_forgets_runners_and_users(runner_api, runner_api_client):
    # What the plugin's fixture does before each test (test_plugin.py runs it across tests).
    _runner(runner_api_client, "left behind")
    _, token = runner_api.create_user("left-behind", runner_creator=True)
    runner_api.reset()
    assert list(runner_api_client.runners.list()) == []
    stale = runner_api.client(bearer_token=token, max_retries=0)
    with stale, pytest.raises(runnerkit.UnauthenticatedError):
        stale.runners.list().items  # noqa: B018
    assert runner_api.requests[-1].code == "unauthenticated"


def test_admin_token_survives_reset_and_users_work(runner_api):
    subject_id, token = runner_api.create_user("dev", runner_creator=True, groups=[GROUP])
    with runner_api.client(bearer_token=token) as dev:
        runner_id = _runner(dev)
        got = dev.runners.retrieve(runner_id=runner_id).runner
        assert got.creator.id == subject_id
    runner_api.reset()
    with runner_api.client() as admin:
        assert list(admin.runners.list()) == []
        assert (
            admin.runners.create(name="after", provider="RUNNER_PROVIDER_GCP").runner.name
            == "after"
        )


def test_snapshot_restore_round_trip(runner_api, runner_api_client):
    first = _runner(runner_api_client, "first")
    runner_api_client.runners.policies.create(
        runner_id=first, group_id=GROUP, role="RUNNER_ROLE_USER"
    )
    snapshot = runner_api.snapshot()
    second = _runner(runner_api_client, "second")
    runner_api_client.runners.delete(runner_id=first)
    runner_api.restore(snapshot)
    names = sorted(r.name for r in runner_api_client.runners.list())
    assert names == ["first"]
    policies = list(runner_api_client.runners.policies.list(runner_id=first))
    assert [(p.group_id, p.role) for p in policies] == [(GROUP, 2)]
    with pytest.raises(runnerkit.NotFoundError):
        runner_api_client.runners.retrieve(runner_id=second)
    assert runner_api.snapshot() == snapshot


def test_restore_refuses_a_foreign_snapshot_and_changes_nothing(runner_api, runner_api_client):
    _runner(runner_api_client)
    for bad in (
        b"not json",
        b'{"format": "other"}',
        b'{"format": "runnerkit-snapshot/1", "schema": "x", "tables": {}}',
    ):
        with pytest.raises(ValueError, match="snapshot"):
            runner_api.restore(bad)
    assert len(list(runner_api_client.runners.list())) == 1


def test_journal_records_calls_without_secrets(runner_api, runner_api_client):
    runner_api.requests.clear()
    runner_id = _runner(runner_api_client)
    token = runner_api_client.runners.create_runner_token(runner_id=runner_id).exchange_token
    with pytest.raises(runnerkit.NotFoundError):
        runner_api_client.runners.retrieve(runner_id="3f582836-3128-4df3-bbfa-823afcc66135")
    entries = list(runner_api.requests)
    assert [(e.rpc, e.code, e.protocol) for e in entries] == [
        ("CreateRunner", "ok", "connect"),
        ("CreateRunnerToken", "ok", "connect"),
        ("GetRunner", "not_found", "connect"),
    ]
    admin_id = entries[0].subject_id
    assert admin_id
    assert all(e.subject_id == admin_id for e in entries)
    assert all(e.duration_s >= 0 and e.service == "gitpod.v1.RunnerService" for e in entries)
    assert entries[0].time <= entries[1].time <= entries[2].time
    text = repr(entries)
    assert token not in text
    assert runner_api.admin_token not in text
    runner_api.requests.clear()
    assert len(runner_api.requests) == 0


def test_time_travel_expires_an_exchange_token(runner_api, runner_api_client):
    runner_id = _runner(runner_api_client)
    early = runner_api_client.runners.create_runner_token(runner_id=runner_id).exchange_token
    late = runner_api_client.runners.create_runner_token(runner_id=runner_id).exchange_token
    assert runner_api.redeem_exchange_token(early) == runner_id
    with pytest.raises(TokenRejectedError):
        runner_api.redeem_exchange_token(early)  # single use
    runner_api.clock.advance(seconds=24 * 3600 - 60)
    fresh = runner_api_client.runners.create_runner_token(runner_id=runner_id).exchange_token
    runner_api.clock.advance(seconds=120)
    with pytest.raises(TokenRejectedError):
        runner_api.redeem_exchange_token(late)  # 24 h old: expired
    assert runner_api.redeem_exchange_token(fresh) == runner_id  # 2 minutes old


def test_time_travel_expires_a_logs_token(runner_api, runner_api_client):
    runner_id = _runner(runner_api_client)
    token = runner_api_client.runners.create_logs_token(runner_id=runner_id).access_token
    runner_api.clock.advance(minutes=59)
    assert runner_api.check_logs_token(token) == runner_id
    assert runner_api.check_logs_token(token) == runner_id  # not used up
    runner_api.clock.advance(minutes=2)
    with pytest.raises(TokenRejectedError):
        runner_api.check_logs_token(token)


def test_time_travel_expires_a_host_token(runner_api, runner_api_client):
    runner_id = _runner(runner_api_client)
    configs = runner_api_client.runners.configurations
    expires = runner_api.clock.now().timestamp() + 3600
    configs.host_authentication_tokens.create(
        runner_id=runner_id,
        host="github.com",
        token="ghp_secret_value",
        source="HOST_AUTHENTICATION_TOKEN_SOURCE_PAT",
        expires_at={"seconds": int(expires)},
    )
    check = runner_api_client.runners.check_authentication_for_host
    assert check(runner_id=runner_id, host="github.com").authenticated
    runner_api.clock.advance(hours=1, seconds=1)
    assert not check(runner_id=runner_id, host="github.com").authenticated


def test_clock_moves_only_forward_and_reset_brings_it_back(runner_api):
    before = runner_api.clock.now()
    after = runner_api.clock.advance(hours=48)
    assert (after - before).total_seconds() >= 48 * 3600
    with pytest.raises(ValueError, match="advance"):
        runner_api.clock.advance(seconds=-1)
    runner_api.reset()
    assert runner_api.clock.offset_seconds == 0


def test_runner_status_as_a_runner_reports_it(runner_api, runner_api_client):
    runner_id = _runner(runner_api_client)
    assert (
        runner_api_client.runners.retrieve(runner_id=runner_id).runner.status.phase == 1
    )  # CREATED
    runner_api.set_runner_status(runner_id, version="2.3.4", region="eu-west-1", message="up")
    status = runner_api_client.runners.retrieve(runner_id=runner_id).runner.status
    assert (status.phase, status.version, status.region, status.message) == (
        3,
        "2.3.4",
        "eu-west-1",
        "up",
    )
    assert len(status.public_key) == 32
    runner_api.set_runner_status(runner_id, phase="RUNNER_PHASE_DEGRADED")
    assert runner_api_client.runners.retrieve(runner_id=runner_id).runner.status.phase == 6
    with pytest.raises(ValueError, match="phase"):
        runner_api.set_runner_status(runner_id, phase="RUNNER_PHASE_NOPE")
    with pytest.raises(ValueError, match="not found"):
        runner_api.set_runner_status("3f582836-3128-4df3-bbfa-823afcc66135")


def test_async_context_manager_and_client(tmp_path):
    async def main() -> list[str]:
        async with LocalRunnerAPI(db=tmp_path / "own.db") as api, api.async_client() as client:
            await client.runners.create(name="async", provider="RUNNER_PROVIDER_GCP")
            page = await client.runners.list()
            return [r.name async for r in page]

    assert asyncio.run(main()) == ["async"]
    assert (tmp_path / "own.db").exists()


def test_not_running_is_a_clear_error():
    api = LocalRunnerAPI()
    with pytest.raises(RuntimeError, match="not running"):
        api.base_url  # noqa: B018


def test_a_given_admin_token_is_reused_on_the_same_db(tmp_path):
    token = "my-admin-token-0123456789"
    for name in ("first", "second"):
        with LocalRunnerAPI(db=tmp_path / "kept.db", admin_token=token) as api:
            assert api.admin_token == token
            with api.client() as admin:
                admin.runners.create(name=name, provider="RUNNER_PROVIDER_GCP")
                names = sorted(r.name for r in admin.runners.list())
    assert names == ["first", "second"]


def test_server_hooks_and_seeds_load_neither_client_nor_testing_api():
    code = (
        "import sys, runnerkit.server.testapi, runnerkit.server.app, runnerkit.testing.seed_apply;"
        "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('runnerkit.')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = done.stdout.strip()
    assert "'client'" not in loaded
    assert "'server'" in loaded
