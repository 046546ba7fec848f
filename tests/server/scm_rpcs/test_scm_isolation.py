"""Issue 9.6: SCM calls run on their own bounded pool and never hold up other RPCs."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from tests.server.scm.stubs import ALICE
from tests.server.scm_rpcs.harness import scm_config
from tests.support.server import running_server

if TYPE_CHECKING:
    from pathlib import Path

    from tests.server.scm.stubs import Stub

HELD_CALLS = 12
STUB_DELAY_S = 4.0


def _post(base: str, service: str, rpc: str, body: Any, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{base}/gitpod.v1.{service}/{rpc}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def test_get_runner_answers_while_twelve_scm_calls_are_held(
    tmp_path: Path, github_server: Stub, gitlab_server: Stub
) -> None:
    github_server.reset()
    config = scm_config(github_server, gitlab_server, timeout_s=STUB_DELAY_S * 4)
    with running_server(tmp_path, scm=config) as (base, admin):
        _, made = _post(
            base,
            "RunnerService",
            "CreateRunner",
            {"name": "runner", "provider": "RUNNER_PROVIDER_AWS_EC2"},
            admin,
        )
        runner_id = made["runner"]["runnerId"]
        _post(
            base,
            "RunnerConfigurationService",
            "CreateHostAuthenticationToken",
            {"runnerId": runner_id, "host": "github.com", "token": ALICE},
            admin,
        )
        github_server.switches.delay_s = STUB_DELAY_S
        search = {"runnerId": runner_id, "scmHost": "github.com", "searchString": "svc"}
        results: list[tuple[int, Any]] = []

        def held_call() -> None:
            results.append(_post(base, "RunnerService", "SearchRepositories", search, admin))

        threads = [threading.Thread(target=held_call) for _ in range(HELD_CALLS)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # the calls reach the stub and wait there
        started = time.monotonic()
        status, got = _post(base, "RunnerService", "GetRunner", {"runnerId": runner_id}, admin)
        took = time.monotonic() - started
        still_held = HELD_CALLS - len(results)
        for thread in threads:
            thread.join(timeout=STUB_DELAY_S * 5)
        github_server.switches.delay_s = 0.0

    assert (status, got["runner"]["runnerId"]) == (200, runner_id)
    # GetRunner did not queue behind the SCM calls: they were all still waiting on the stub.
    assert still_held == HELD_CALLS
    assert took < 2.0  # a liveness bound, far above the usual few milliseconds
    assert [code for code, _ in results] == [200] * HELD_CALLS
    assert all(len(body["repositories"]) == 7 for _, body in results)
