"""Fuzz every RPC of both services in every protocol the server speaks (issue 11).

The real app runs on a real loopback socket (uvicorn + zttp as ``runnerkit serve`` runs it:
HTTP/1.1 and h2c on one port) on a fresh SQLite store holding one runner; requests carry the
admin token (mostly) so that bodies reach parsing, the interceptors and the services, and id
fields often name that runner. For each RPC and each protocol mode of ``fuzz_protocols.py``
(Connect proto, Connect JSON, Connect GET, gRPC-Web binary and text framing, gRPC over
HTTP/2, and a mode for malformed headers: content type, content encoding incl. bad gzip,
timeouts, authorization, protocol version), hypothesis draws hostile requests — malformed and
schema-shaped bodies, malformed frames, malformed query strings. Asserted for each: no HTTP
500, no ``internal``/``unknown`` code, no internal text in error messages, an answer well formed
for its protocol (``fuzz_protocols.check``), and no error or traceback in the server's log.

The run is deterministic (fixed seed, no example database) and bounded:
``RUNNERKIT_FUZZ_EXAMPLES`` examples per RPC and mode (default 4; e.g. 200 for a long run:
``RUNNERKIT_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/server/test_fuzz.py``).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from runnerkit.server.scm import SCMConfig
from tests.server.fuzz_bodies import RPCS
from tests.server.fuzz_protocols import MODES, check, request
from tests.support.server import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.server.fuzz_bodies import RPC

EXAMPLES = int(os.environ.get("RUNNERKIT_FUZZ_EXAMPLES", "4"))
SEED = 20261201


class _Faults(logging.Handler):
    """Keeps log records that are errors or carry a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def take(self) -> list[str]:
        found = [f"{r.name}: {r.getMessage()}" for r in self.records]
        self.records.clear()
        return found


@pytest.fixture(scope="module")
def faults() -> Iterator[_Faults]:
    handler = _Faults()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, faults: _Faults
) -> Iterator[tuple[httpx.Client, str, str]]:
    # SCM hosts point at a loopback port that refuses connections: no call leaves the machine.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    scm = SCMConfig(
        api_base_urls={"github.com": nowhere, "gitlab.com": nowhere},
        web_base_urls={"github.com": nowhere, "gitlab.com": nowhere},
        timeout_s=2,
    )
    try:
        with (
            running_server(tmp_path_factory.mktemp("fuzz"), scm=scm) as (url, token),
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            created = client.post(
                "/gitpod.v1.RunnerService/CreateRunner",
                json={"name": "fuzz", "provider": "RUNNER_PROVIDER_GCP"},
                headers={"authorization": f"Bearer {token}"},
            )
            yield client, token, created.json()["runner"]["runnerId"]
    finally:
        closed.close()
    assert faults.take() == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rpc", RPCS, ids=lambda rpc: rpc.name)
def test_fuzz(rpc: RPC, mode: str, server: tuple[httpx.Client, str, str], faults: _Faults) -> None:
    client, token, runner_id = server

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        req = data.draw(request(mode, rpc), label="request")
        response = req.send(client, token, runner_id)
        check(req, response)
        assert faults.take() == []

    run()
