"""Benchmark the reference server against a bare ASGI endpoint, side by side in one run.

Starts two servers as subprocesses on loopback, both under uvicorn with the same settings:
a bare ASGI app that answers every POST with fixed bytes (the floor: HTTP + uvicorn), and
``runnerkit serve`` on a fresh SQLite file. One keep-alive HTTP connection then sends
pre-encoded Connect requests to each in interleaved rounds, so both see the same machine
noise. Printed: calls per second and median latency per workload, each as a ratio to the bare
endpoint, the generated Connect client's own overhead, and the servers' peak memory.

These machines are noisy: read the ratios, not the absolute figures. Usage:
``python scripts/bench.py [--seconds S] [--rounds N]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_connect, runner_pb2

if TYPE_CHECKING:
    from collections.abc import Callable

ADMIN_TOKEN = "rk_bench_admin_token_0123456789abcdef"  # noqa: S105 - throwaway local server
_BARE_APP = """
import uvicorn

BODY = b"\\n\\x04bare"

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/proto"),
                            (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})

uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]),
            log_config=None, access_log=False)
"""


@dataclass
class Workload:
    """One kind of request, measured in every round."""

    name: str
    call: Callable[[], None]
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def _free_port() -> int:
    import socket  # noqa: PLC0415 - only needed here

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


class Poster:
    """A keep-alive HTTP connection that POSTs pre-encoded bodies."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port)

    def caller(self, path: str, body: bytes, content_type: str) -> Callable[[], None]:
        """A zero-argument function that sends one request and checks the status."""
        headers = {"content-type": content_type, "authorization": f"Bearer {ADMIN_TOKEN}"}

        def call() -> None:
            try:
                self._conn.request("POST", path, body=body, headers=headers)
                response = self._conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionError):
                # uvicorn closes connections idle for 5 s, as happens between rounds.
                self._conn.close()
                self._conn.request("POST", path, body=body, headers=headers)
                response = self._conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}")

        return call


def _discard(_: object) -> None:
    """Drop a result (for workloads built from calls that return one)."""


def _measure(workload: Workload, seconds: float) -> None:
    samples = []
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while (now := time.perf_counter()) < deadline:
        workload.call()
        samples.append(time.perf_counter() - now)
    workload.rates.append(len(samples) / (time.perf_counter() - start))
    workload.latencies.extend(samples)


def main(argv: list[str]) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="per workload and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    bare_port, server_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory(prefix="runnerkit-bench-") as tmp:
        env = {**os.environ, "RUNNERKIT_ADMIN_TOKEN": ADMIN_TOKEN}
        bare = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", _BARE_APP, str(bare_port)], stderr=subprocess.DEVNULL
        )
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "runnerkit.server",
                "--port",
                str(server_port),
                "--db",
                str(Path(tmp) / "bench.db"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_port(bare_port)
            _wait_port(server_port)
            return _run(
                args.seconds, args.rounds, bare=(bare, bare_port), server=(server, server_port)
            )
        finally:
            for proc in (bare, server):
                proc.terminate()
                proc.wait(timeout=20)


def _run(
    seconds: float,
    rounds: int,
    *,
    bare: tuple[subprocess.Popen[bytes], int],
    server: tuple[subprocess.Popen[bytes], int],
) -> int:
    (bare_proc, bare_port), (server_proc, server_port) = bare, server
    base = f"http://127.0.0.1:{server_port}"
    client = runner_connect.RunnerServiceClientSync(base)
    auth = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    create = runner_pb2.CreateRunnerRequest(
        name="bench", provider=runner_configuration_pb2.RunnerProvider.RUNNER_PROVIDER_AWS_EC2
    )
    runner_id = client.create_runner(create, headers=auth).runner.runner_id
    for _ in range(99):
        client.create_runner(create, headers=auth)

    get = runner_pb2.GetRunnerRequest(runner_id=runner_id)
    listing = runner_pb2.ListRunnersRequest()
    listing.pagination.page_size = 25
    bare_post, post = Poster(bare_port), Poster(server_port)
    rpc = "/gitpod.v1.RunnerService/"
    proto, js = "application/proto", "application/json"
    workloads = [
        Workload("bare ASGI endpoint (floor)", bare_post.caller("/", b"", proto)),
        Workload(
            "GetRunner, binary", post.caller(rpc + "GetRunner", get.SerializeToString(), proto)
        ),
        Workload(
            "GetRunner, JSON",
            post.caller(rpc + "GetRunner", json.dumps({"runnerId": runner_id}).encode(), js),
        ),
        Workload(
            "ListRunners 25/page, binary",
            post.caller(rpc + "ListRunners", listing.SerializeToString(), proto),
        ),
        Workload(
            "CreateRunner, binary (durable write)",
            post.caller(rpc + "CreateRunner", create.SerializeToString(), proto),
        ),
        Workload(
            "GetRunner via generated client",
            lambda: _discard(client.get_runner(get, headers=auth)),
        ),
    ]
    for workload in workloads:  # warm-up
        for _ in range(20):
            workload.call()
        workload.latencies.clear()
    for _ in range(rounds):
        for workload in workloads:
            _measure(workload, seconds)

    floor = statistics.median(workloads[0].rates)
    print(f"{'workload':40} {'calls/s':>9} {'x floor':>8} {'p50 ms':>8}")
    for w in workloads:
        rate = statistics.median(w.rates)
        p50 = statistics.median(w.latencies) * 1000
        print(f"{w.name:40} {rate:9.0f} {rate / floor:8.2f} {p50:8.3f}")
    via_client = statistics.median(workloads[-1].rates)
    raw_get = statistics.median(workloads[1].rates)
    print(f"\ngenerated client vs raw HTTP for GetRunner: {via_client / raw_get:.2f}x the calls/s")
    bare_rss, server_rss = _peak_rss_kib(bare_proc.pid), _peak_rss_kib(server_proc.pid)
    print(
        f"peak RSS: bare {bare_rss / 1024:.1f} MiB, runnerkit serve {server_rss / 1024:.1f} MiB "
        f"({server_rss / max(bare_rss, 1):.2f}x the bare endpoint)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
