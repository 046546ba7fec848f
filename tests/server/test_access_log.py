"""The access log of the one ASGI layer: one structured line per request, nothing secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

from runnerkit.server.access_log import StreamAccessLog, access_line
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


def test_access_line_fields_and_odd_paths() -> None:
    assert access_line("POST", "/a/B", 200, "", 0.0004567) == (
        "method=POST path=/a/B status=200 code=- ms=0.46"
    )
    assert 'path="/a b\\"c"' in access_line("GET", '/a b"c', 404, "unimplemented", 0)
    assert 'path="/x\\n' in access_line("GET", "/x\nforged=1", 404, "", 0)
    long_line = access_line("GET", "/" + "p" * 500, 404, "", 0)
    assert "path=/" + "p" * 199 + "... " in long_line


def test_the_stream_sink_writes_logging_style_lines_in_batches(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="runnerkit.server.access")
    stream = io.StringIO()
    sink = StreamAccessLog(stream, max_lines=3, flush_after_s=0.05)

    async def scenario() -> list[str]:
        seen = []
        sink.write("method=POST path=/a status=200 code=- ms=0.10")
        seen.append(stream.getvalue())  # waits for the batch
        sink.write("method=POST path=/b status=200 code=- ms=0.10")
        sink.write("method=POST path=/c status=200 code=- ms=0.10")  # the batch is full
        seen.append(stream.getvalue())
        sink.write("method=POST path=/d status=200 code=- ms=0.10")
        await asyncio.sleep(0.2)  # written after flush_after_s
        seen.append(stream.getvalue())
        return seen

    before, full, later = asyncio.run(scenario())
    assert before == ""
    assert full.count("\n") == 3
    assert later.count("\n") == 4
    line = later.splitlines()[0]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO runnerkit\.server\.access: "
        r"method=POST path=/a status=200 code=- ms=0\.10",
        line,
    )
    assert sink.enabled()
    caplog.set_level(logging.WARNING, logger="runnerkit.server.access")
    assert not sink.enabled()


class _Writes(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, text: str) -> int:
        self.sizes.append(len(text.encode()))
        return super().write(text)


def test_stream_batches_stay_below_pipe_buf() -> None:
    stream = _Writes()
    sink = StreamAccessLog(stream, max_lines=1000)
    line = access_line("POST", "/" + "p" * 300, 200, "", 0.001)

    async def scenario() -> None:
        for _ in range(100):
            sink.write(line)
        sink.flush()

    asyncio.run(scenario())
    assert stream.getvalue().count("\n") == 100
    assert len(stream.sizes) > 1
    assert max(stream.sizes) < 4096
