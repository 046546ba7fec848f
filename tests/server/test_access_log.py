"""The access log of the one ASGI layer: one structured line per request, nothing secret."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

from tests.support.server import running_server

SECRET_FIELD = "name-that-is-S3CRET"


def _post(url: str, body: bytes, token: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as err:
        with err:
            err.read()
            return err.code, dict(err.headers)


def test_one_line_per_request_with_status_and_code_never_tokens_queries_or_bodies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="runnerkit.server.access")
    rpc = "/gitpod.v1.RunnerService/"
    with running_server(tmp_path) as (base, admin):
        created = json.dumps({"name": SECRET_FIELD, "provider": "RUNNER_PROVIDER_AWS_EC2"})
        ok = _post(f"{base}{rpc}CreateRunner", created.encode(), admin)
        listed = _post(f"{base}{rpc}ListRunners?token=S3CRET-page", b"{}", admin)
        refused = _post(f"{base}{rpc}GetRunner", b'{"runnerId":"x"}', "S3CRET-wrong-token")
        invalid = _post(f"{base}{rpc}GetRunner", b'{"runnerId":"not-a-uuid"}', admin)
    lines = [r.getMessage() for r in caplog.records if r.name == "runnerkit.server.access"]

    assert (ok[0], listed[0]) == (200, 400)
    assert "x-should-retry" not in {k.lower() for k in ok[1]}
    assert refused[0] == 401
    assert {k.lower(): v for k, v in refused[1].items()}["x-should-retry"] == "false"
    assert invalid[0] == 400
    assert lines[0].startswith(f"method=POST path={rpc}CreateRunner status=200 code=- ms=")
    assert lines[1].startswith(
        f"method=POST path={rpc}ListRunners status=400 code=invalid_argument"
    )
    assert lines[2].startswith(f"method=POST path={rpc}GetRunner status=401 code=unauthenticated")
    assert lines[3].startswith(f"method=POST path={rpc}GetRunner status=400 code=invalid_argument")
    assert len(lines) == 4
    assert not any("S3CRET" in line or admin in line for line in lines)


def test_nothing_is_logged_when_the_access_logger_is_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="runnerkit.server.access")
    with running_server(tmp_path) as (base, admin):
        status, _ = _post(f"{base}/gitpod.v1.RunnerService/ListRunners", b"{}", admin)
    assert status == 200
    assert not [r for r in caplog.records if r.name == "runnerkit.server.access"]
