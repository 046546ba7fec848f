"""Benchmark the transports of one server side by side: HTTP/1.1 vs HTTP/2, Connect vs gRPC.

Starts ``runnerkit serve --port 0`` (uvicorn + zttp, one port) on a fresh SQLite file in a
temporary directory and calls GetRunner sequentially, one keep-alive connection per variant,
in interleaved rounds so every variant sees the same machine noise:

- ``connect h1`` / ``connect h2c``: connectrpc's client (pyqwest), Connect protocol, binary;
- ``grpc h2c``: the same client speaking gRPC;
- ``grpc-web h1``: the same client speaking gRPC-Web;
- ``grpcio h2c``: grpcio (an independent gRPC implementation), raw bytes on the same path.

Printed: calls per second (median over rounds) and each variant's ratio to ``connect h1``.
These machines are noisy: read the ratios, not the absolute figures. Usage:
``python scripts/bench_serving.py [--seconds S] [--rounds N]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import grpc  # type: ignore[import-untyped]
from connectrpc.protocol import ProtocolType
from pyqwest import HTTPVersion, SyncClient, SyncHTTPTransport

from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_connect, runner_pb2

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ADMIN_TOKEN = "rk_bench_serving_admin_token_0123456789"  # noqa: S105 - throwaway local server
HEADERS = {"authorization": f"Bearer {ADMIN_TOKEN}"}
METHOD = "/gitpod.v1.RunnerService/GetRunner"


def _start(directory: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "RUNNERKIT_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "runnerkit.server", "--db", str(directory / "bench.db")]
    process = subprocess.Popen(  # noqa: S603 - our own server, our own arguments
        [*command, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    first = process.stdout.readline() if process.stdout is not None else ""
    if not first.startswith("runnerkit reference server on "):
        process.kill()
        msg = f"server did not start: {first!r}"
        raise RuntimeError(msg)
    return process, first.split()[-1]


def _connect_client(
    base_url: str, version: HTTPVersion, protocol: ProtocolType
) -> tuple[runner_connect.RunnerServiceClientSync, SyncClient]:
    http = SyncClient(SyncHTTPTransport(http_version=version))
    client = runner_connect.RunnerServiceClientSync(
        base_url, protocol=protocol, send_compression=None, http_client=http
    )
    return client, http


def _variants(base_url: str, runner_id: str) -> Iterator[tuple[str, Callable[[], object]]]:
    request = runner_pb2.GetRunnerRequest(runner_id=runner_id)
    for name, version, protocol in (
        ("connect h1", HTTPVersion.HTTP1, ProtocolType.CONNECT),
        ("connect h2c", HTTPVersion.HTTP2, ProtocolType.CONNECT),
        ("grpc h2c", HTTPVersion.HTTP2, ProtocolType.GRPC),
        ("grpc-web h1", HTTPVersion.HTTP1, ProtocolType.GRPC_WEB),
    ):
        client, _ = _connect_client(base_url, version, protocol)
        yield name, functools.partial(client.get_runner, request, headers=HEADERS)
    channel = grpc.insecure_channel(base_url.removeprefix("http://"))
    call = channel.unary_unary(METHOD)  # bytes in, bytes out
    payload = request.SerializeToString()
    metadata = list(HEADERS.items())
    yield "grpcio h2c", lambda: call(payload, metadata=metadata)


def _rate(call: Callable[[], object], seconds: float) -> float:
    call()
    count = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        call()
        count += 1
    return count / (time.perf_counter() - started)


def main(argv: list[str]) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per variant per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        process, base_url = _start(Path(tmp))
        try:
            setup, _ = _connect_client(base_url, HTTPVersion.HTTP1, ProtocolType.CONNECT)
            created = setup.create_runner(
                runner_pb2.CreateRunnerRequest(
                    name="bench", provider=runner_configuration_pb2.RUNNER_PROVIDER_AWS_EC2
                ),
                headers=HEADERS,
            )
            variants = list(_variants(base_url, created.runner.runner_id))
            rates: dict[str, list[float]] = {name: [] for name, _ in variants}
            for _ in range(args.rounds):
                for name, call in variants:
                    rates[name].append(_rate(call, args.seconds))
        finally:
            process.terminate()
            process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()
    medians = {name: statistics.median(values) for name, values in rates.items()}
    base = medians["connect h1"]
    print(f"GetRunner, sequential, {args.rounds} interleaved rounds of {args.seconds:g} s")
    print(f"{'variant':<14}{'calls/s':>10}{'vs connect h1':>16}")
    for name, value in medians.items():
        print(f"{name:<14}{value:>10.0f}{value / base:>15.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
