"""Injected faults: each kind, on every protocol, and how runnerkit.Client copes with them."""

from __future__ import annotations

import concurrent.futures
import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.protocol import ProtocolType

import runnerkit
from runnerkit_proto.gitpod.v1 import runner_connect, runner_pb2


def _runner(client) -> str:
    return str(client.runners.create(name="run", provider="RUNNER_PROVIDER_GCP").runner.runner_id)


def test_client_retries_an_injected_unavailable_on_a_read_and_succeeds(
    runner_api, runner_api_client
):
    runner_id = _runner(runner_api_client)
    runner_api.requests.clear()
    fault = runner_api.faults.add(rpc="GetRunner", code="unavailable", times=1)
    assert runner_api_client.runners.retrieve(runner_id=runner_id).runner.runner_id == runner_id
    assert fault.fired == 1
    assert len(runner_api.faults.list()) == 0  # used up
    assert [(e.rpc, e.code) for e in runner_api.requests] == [
        ("GetRunner", "unavailable"),
        ("GetRunner", "ok"),
    ]


def test_unavailable_on_a_write_is_not_retried_and_changes_nothing(runner_api, runner_api_client):
    runner_api.faults.add(rpc="CreateRunner", code="unavailable", message="try later")
    with pytest.raises(runnerkit.UnavailableError, match="try later"):
        _runner(runner_api_client)
    assert [e.code for e in runner_api.requests] == ["unavailable"]
    assert list(runner_api_client.runners.list()) == []


def test_error_code_with_message_then_normal_service(runner_api, runner_api_client):
    runner_api.faults.add(rpc="ListRunners", code="permission_denied", message="nope")
    with pytest.raises(runnerkit.PermissionDeniedError) as info:
        runner_api_client.runners.list().items  # noqa: B018
    assert info.value.message == "nope"
    assert list(runner_api_client.runners.list()) == []


def test_times_none_fails_every_call_until_cleared(runner_api, runner_api_client):
    runner_api.faults.add(rpc="*", code="internal", times=None)
    for _ in range(3):
        with pytest.raises(runnerkit.InternalError, match="injected fault: internal"):
            runner_api_client.runners.list().items  # noqa: B018
    runner_api.faults.clear()
    assert list(runner_api_client.runners.list()) == []


def test_times_counts_calls(runner_api):
    with runner_api.client(max_retries=0) as client:
        runner_api.faults.add(rpc="ListRunners", code="unavailable", times=2)
        for _ in range(2):
            with pytest.raises(runnerkit.UnavailableError):
                client.runners.list().items  # noqa: B018
        assert list(client.runners.list()) == []


def test_probability_zero_never_strikes_and_one_always_does(runner_api, runner_api_client):
    never = runner_api.faults.add(rpc="ListRunners", code="aborted", times=None, probability=0.0)
    for _ in range(5):
        runner_api_client.runners.list().items  # noqa: B018
    assert never.fired == 0
    runner_api.faults.add(rpc="ListRunners", code="aborted", probability=1.0)
    with pytest.raises(runnerkit.AbortedError):
        runner_api_client.runners.list().items  # noqa: B018


def test_delay_only_slows_the_call_down(runner_api, runner_api_client):
    runner_api.faults.add(rpc="ListRunners", code=None, delay_s=0.3)
    assert list(runner_api_client.runners.list()) == []
    entry = runner_api.requests[-1]
    assert (entry.rpc, entry.code) == ("ListRunners", "ok")
    assert entry.duration_s >= 0.3


def test_delay_beyond_the_deadline_is_a_timeout(runner_api):
    runner_api.faults.add(rpc="ListRunners", code=None, delay_s=2.0)
    with (
        runner_api.client(timeout=0.2, max_retries=0) as client,
        pytest.raises(runnerkit.DeadlineExceededError),
    ):
        client.runners.list().items  # noqa: B018


def test_faults_reach_every_protocol(runner_api):
    runner_api.faults.add(rpc="GetRunner", code="unavailable", message="down", times=None)
    request = runner_pb2.GetRunnerRequest(runner_id="3f582836-3128-4df3-bbfa-823afcc66135")
    auth = {"authorization": f"Bearer {runner_api.admin_token}"}
    with runner_connect.RunnerServiceClientSync(
        runner_api.base_url, protocol=ProtocolType.GRPC_WEB
    ) as web:
        with pytest.raises(ConnectError) as info:
            web.get_runner(request, headers=auth)
        assert (info.value.code, info.value.message) == (Code.UNAVAILABLE, "down")
    plain = urllib.request.Request(
        f"{runner_api.base_url}/gitpod.v1.RunnerService/GetRunner",
        data=json.dumps({"runnerId": request.runner_id}).encode(),
        headers={**auth, "content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(plain, timeout=10)
    assert http.value.code == 503
    assert json.loads(http.value.read()) == {"code": "unavailable", "message": "down"}
    assert [e.protocol for e in runner_api.requests] == ["grpc-web", "connect"]


def test_bad_fault_arguments_name_the_field(runner_api):
    cases: list[tuple[dict[str, Any], str]] = [
        ({"code": "nope"}, "code"),
        ({"times": 0}, "times"),
        ({"probability": 1.5}, "probability"),
        ({"delay_s": -1}, "delay_s"),
        ({"code": None}, "code"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValueError, match=field):
            runner_api.faults.add(rpc="GetRunner", **kwargs)
    assert runner_api.faults.list() == []


def test_a_call_in_flight_when_the_journal_is_cleared_is_not_recorded(runner_api):
    """The next test starts with a clear: a call of the previous one must not leak into it."""
    fault = runner_api.faults.add(rpc="ListRunners", code=None, delay_s=0.5)
    with runner_api.client(max_retries=0) as client:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(lambda: list(client.runners.list()))
            deadline = time.monotonic() + 10
            while fault.fired == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert fault.fired == 1  # the call is in its delay now
            runner_api.requests.clear()
            assert in_flight.result(timeout=10) == []
        assert len(runner_api.requests) == 0
        client.runners.list().items  # noqa: B018 - a call after the clear is recorded
    assert [(e.rpc, e.code) for e in runner_api.requests] == [("ListRunners", "ok")]
