"""Benchmark ``runnerkit serve --workers 1`` against ``--workers 2``, side by side in one run.

Starts both servers as subprocesses on loopback, each on its own fresh SQLite file, creates one
runner in each, then drives GetRunner over 32 concurrent keep-alive HTTP/1.1 connections
(Connect binary, pre-encoded requests, a minimal asyncio client on uvloop so that the load
generator costs little CPU) in interleaved rounds, so both see the same machine noise.
Printed: calls per second of each and the ratio 2 workers / 1 worker (the goal is >= 1.8x on
a machine with at least two idle cores; the load generator shares the cores it measures, so
on a two-core machine expect less).

Usage: ``python scripts/bench_workers.py [--seconds S] [--rounds N] [--connections C]``
(``make bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2

ADMIN_TOKEN = "rk_bench_workers_admin_token_0123456789"  # noqa: S105 - throwaway local server


def start(directory: Path, workers: int) -> tuple[subprocess.Popen[str], str]:
    """Start ``runnerkit serve --workers N`` on port 0; its process and base URL."""
    process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [
            sys.executable,
            "-m",
            "runnerkit.server",
            "--port",
            "0",
            "--db",
            str(directory / "bench.db"),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RUNNERKIT_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    base_url = ""
    for line in process.stdout or ():
        if line.startswith("runnerkit reference server on "):
            base_url = line.split()[-1]
        if line.startswith("store: "):
            break
    if not base_url:
        process.kill()
        raise SystemExit(f"server with {workers} workers did not start")
    return process, base_url


def create_runner(base_url: str) -> str:
    """Create a runner (JSON); its id. Retries while the workers are still starting."""
    body = json.dumps({"name": "bench", "provider": "RUNNER_PROVIDER_AWS_EC2"}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback http URL we printed
        f"{base_url}/gitpod.v1.RunnerService/CreateRunner",
        data=body,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return str(json.load(response)["runner"]["runnerId"])
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def get_runner_request(base_url: str, runner_id: str) -> tuple[str, int, bytes]:
    """Host, port and the pre-encoded HTTP/1.1 GetRunner request (Connect, binary)."""
    hostport = base_url.removeprefix("http://")
    host, _, port = hostport.rpartition(":")
    body = runner_pb2.GetRunnerRequest(runner_id=runner_id).SerializeToString()
    head = (
        f"POST /gitpod.v1.RunnerService/GetRunner HTTP/1.1\r\nHost: {hostport}\r\n"
        f"Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/proto\r\n"
        f"Connect-Protocol-Version: 1\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return host, int(port), head.encode() + body


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> None:
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            await reader.readexactly(int(line[15:]))
            return
    while True:  # chunked
        size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return


async def _connection(host: str, port: int, request: bytes, stop_at: float) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    calls = 0
    try:
        while time.monotonic() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"unexpected answer: {head[:80]!r}")
            await _read_body(reader, head)
            calls += 1
    finally:
        writer.close()
    return calls


async def _round(target: tuple[str, int, bytes], connections: int, seconds: float) -> float:
    host, port, request = target
    started = time.monotonic()
    counts = await asyncio.gather(
        *(_connection(host, port, request, started + seconds) for _ in range(connections))
    )
    return sum(counts) / (time.monotonic() - started)


def main() -> None:
    """Run the benchmark and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds per server")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    args = parser.parse_args()
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up of the load generator

        uvloop.install()
    except ImportError:
        pass
    _ = runner_configuration_pb2  # the generated modules register together
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        servers = {1: start(Path(one), 1), 2: start(Path(two), 2)}
        try:
            targets = {
                n: get_runner_request(url, create_runner(url)) for n, (_, url) in servers.items()
            }
            for target in targets.values():  # warm-up: every worker imports and connects
                asyncio.run(_round(target, args.connections, 1.0))
            rates: dict[int, list[float]] = {1: [], 2: []}
            for _ in range(args.rounds):
                for n, target in targets.items():
                    rates[n].append(asyncio.run(_round(target, args.connections, args.seconds)))
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=30)
    mean = {n: sum(r) / len(r) for n, r in rates.items()}
    print(f"GetRunner, {args.connections} connections, {args.rounds} interleaved rounds")
    for n in (1, 2):
        print(f"  --workers {n}: {mean[n]:8.0f} calls/s")
    print(f"  ratio 2 workers / 1 worker: {mean[2] / mean[1]:.2f}x (cores: {os.cpu_count()})")


if __name__ == "__main__":
    main()
