"""Benchmark the reference server against a bare ASGI endpoint, side by side in one run.

Three servers run as subprocesses on loopback, all under uvicorn:

- the **floor**: a bare ASGI app that answers every POST with fixed bytes (HTTP + uvicorn);
- a **connectrpc no-op**: the generated ``RunnerService`` application answering GetRunner,
  ListRunners and CreateRunner with constant messages (no auth, no database);
- ``runnerkit serve`` on a fresh SQLite file with 100 runners.

The floor and the no-ops run on uvicorn's default HTTP/1.1 protocol (httptools); runnerkit on
its own zttp-based protocol, which also serves HTTP/2 on the port. For runnerkit's app the two
protocols cost the same per call (runnerkit's answers carry a ``content-length``); the bare
connectrpc no-op, whose answers go out chunked, costs more on zttp than on httptools, so
httptools is the stricter reference.

Two more references mark what the stack itself allows, for the goals that sit near it:

- a **durable no-op**: the same no-op, except that CreateRunner first commits one row to a
  SQLite file in WAL mode with ``synchronous=FULL`` on a worker thread (as runnerkit commits
  its writes: off the event loop, on disk before the answer): the least a write that is
  durable when acknowledged costs on this machine's disk;
- the **libraries' memory**: the bare app in a process that first imports the libraries the
  server runs on (uvicorn, connectrpc, SQLAlchemy, protovalidate, PyNaCl, the generated
  schema) and none of runnerkit's own modules. It takes no workloads; only its peak RSS is
  printed.

A raw keep-alive HTTP/1.1 client sends pre-encoded Connect requests to each, in interleaved
rounds (every workload once per round), so all see the same machine noise. Printed per
workload: calls per second (median of the rounds), the ratio to the floor and to the no-op
doing the same RPC, p50/p99 latency, and the server process's CPU time per call (user +
system, from /proc: steadier than calls/s when other work shares the machine) with the same
ratios; then the servers' peak memory (VmHWM), and the share of the machine's time other
virtual machines took from these cores while it ran (CPU steal: absolute figures drop with
it, the side-by-side ratios much less). Concurrent
workloads use ``--clients`` client processes with N/``--clients`` connections each.

These machines are noisy: read the ratios, not the absolute figures. Usage:
``python scripts/bench.py [--seconds S] [--rounds N]`` (``make bench``). Environment:
``BENCH_SERVER_PYTHONPATH`` puts another source tree first for the runnerkit server only
(to measure an older checkout with the same bench).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import socket
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
    from collections.abc import Iterator
    from multiprocessing.pool import Pool

ADMIN_TOKEN = "rk_bench_admin_token_0123456789abcdef"  # noqa: S105 - throwaway local server
RPC = "/gitpod.v1.RunnerService/"
PROTO, JSON = "application/proto", "application/json"

_BARE_APP = """
import sys, uvicorn

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

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
"""

# What the server process imports besides its own modules (see the module docstring).
_LIBS_IMPORTS = """
import uvloop, uvicorn, connectrpc.server, sqlalchemy, protovalidate, nacl.public, nacl.secret
from runnerkit_proto.gitpod.v1 import runner_configuration_connect, runner_connect
protovalidate.Validator()
"""

_NOOP_APP = """
import sys, uvicorn
from google.protobuf import timestamp_pb2
from runnerkit_proto.gitpod.v1 import identity_pb2, runner_connect, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc

SUBJECT = identity_pb2.Subject(
    id="0190c5d6-0000-7000-8000-000000000001", principal=1)

def runner(i):
    return runner_pb2.Runner(
        runner_id=f"0190c5d6-0000-7000-8000-{i:012d}", name=f"runner-{i}",
        provider=rc.RUNNER_PROVIDER_AWS_EC2, kind=rc.RUNNER_KIND_REMOTE,
        created_at=timestamp_pb2.Timestamp(seconds=1_700_000_000),
        updated_at=timestamp_pb2.Timestamp(seconds=1_700_000_000),
        creator=SUBJECT,
        spec=runner_pb2.RunnerSpec(desired_phase=runner_pb2.RUNNER_PHASE_ACTIVE),
        status=runner_pb2.RunnerStatus(phase=runner_pb2.RUNNER_PHASE_CREATED))

GET = runner_pb2.GetRunnerResponse(runner=runner(1))
LIST = runner_pb2.ListRunnersResponse(runners=[runner(i) for i in range(25)])
LIST.pagination.next_token = "x" * 60
CREATE = runner_pb2.CreateRunnerResponse(runner=runner(2), exchange_token="y" * 40)

DB = sys.argv[2] if len(sys.argv) > 2 else None  # a path: CreateRunner commits durably
if DB:
    import asyncio, os, sqlite3, threading
    CONN = sqlite3.connect(DB, isolation_level=None, check_same_thread=False)
    CONN.execute("PRAGMA journal_mode=WAL")
    CONN.execute("PRAGMA synchronous=FULL")
    CONN.execute("CREATE TABLE IF NOT EXISTS runners (id BLOB PRIMARY KEY, row BLOB)")
    LOCK = threading.Lock()
    ROW = CREATE.runner.SerializeToString()

    def commit():
        with LOCK:
            CONN.execute("BEGIN IMMEDIATE")
            CONN.execute("INSERT INTO runners VALUES (?, ?)", (os.urandom(16), ROW))
            CONN.execute("COMMIT")

class NoOp(runner_connect.RunnerService):
    async def get_runner(self, request, ctx, /):
        return GET
    async def list_runners(self, request, ctx, /):
        return LIST
    async def create_runner(self, request, ctx, /):
        if DB:
            await asyncio.to_thread(commit)
        return CREATE

uvicorn.run(runner_connect.RunnerServiceASGIApplication(NoOp()), host="127.0.0.1",
            port=int(sys.argv[1]), log_config=None, access_log=False)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _request_bytes(port: int, path: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: {content_type}\r\n"
        f"authorization: Bearer {ADMIN_TOKEN}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")
_CHUNKED = re.compile(rb"(?i)\r\ntransfer-encoding: *chunked")


def _response_end(buf: bytes) -> int | None:
    """The length of the complete HTTP/1.1 response at the start of ``buf``, or None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end]
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
    pos = end + 4
    if (match := _LENGTH.search(head)) is not None:
        total = pos + int(match.group(1))
        return total if len(buf) >= total else None
    if _CHUNKED.search(head) is None:
        raise RuntimeError("response without a length")
    while True:  # chunks, then the empty last chunk (no trailers here)
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(buf[pos:line_end].split(b";")[0], 16)
        pos = line_end + 2 + size + 2
        if len(buf) < pos:
            return None
        if size == 0:
            return pos


class _Conn:
    """One blocking keep-alive connection sending a pre-encoded request."""

    def __init__(self, port: int, request: bytes) -> None:
        self._port, self._request = port, request
        self._sock = self._connect()
        self._buf = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self._port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def call(self) -> None:
        try:
            self._sock.sendall(self._request)
            self._read_response()
        except (ConnectionError, _ClosedError):
            # uvicorn closes connections idle for 5 s, as happens between rounds.
            self._sock.close()
            self._sock, self._buf = self._connect(), b""
            self._sock.sendall(self._request)
            self._read_response()

    def _read_response(self) -> None:
        buf = self._buf
        while (total := _response_end(buf)) is None:
            buf += self._recv()
        self._buf = buf[total:]

    def _recv(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise _ClosedError
        return chunk

    def close(self) -> None:
        self._sock.close()


class _ClosedError(Exception):
    pass


def _sequential(port: int, request: bytes, seconds: float) -> tuple[float, list[float], int]:
    conn = _Conn(port, request)
    try:
        for _ in range(20):  # warm-up
            conn.call()
        samples = []
        start = time.perf_counter()
        deadline = start + seconds
        while (now := time.perf_counter()) < deadline:
            conn.call()
            samples.append(time.perf_counter() - now)
        return len(samples) / (time.perf_counter() - start), samples, len(samples) + 20
    finally:
        conn.close()


class _Protocol(asyncio.Protocol):
    """A keep-alive connection that sends the next request as soon as a response is complete."""

    def __init__(self, request: bytes, done: list[float]) -> None:
        self._request, self._done = request, done
        self._buf = b""
        self._sent = 0.0
        self.transport: asyncio.Transport | None = None
        self.running = True
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        if self.transport is not None:
            self._sent = time.perf_counter()
            self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        buf = self._buf + data
        while (total := _response_end(buf)) is not None:
            buf = buf[total:]
            self._done.append(time.perf_counter() - self._sent)
            if self.running:
                self._send()
        self._buf = buf

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _concurrent_async(
    port: int, request: bytes, connections: int, seconds: float
) -> tuple[float, list[float], int]:
    loop = asyncio.get_running_loop()
    done: list[float] = []
    protocols = []
    for _ in range(connections):
        _, proto = await loop.create_connection(lambda: _Protocol(request, done), "127.0.0.1", port)
        protocols.append(proto)
    await asyncio.sleep(min(0.3, seconds / 4))  # warm-up
    warm_up = len(done)
    done.clear()
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    count, elapsed = len(done), time.perf_counter() - start
    samples = done[:count]
    for proto in protocols:
        proto.running = False
        if proto.transport is not None:
            proto.transport.close()
    await asyncio.gather(*(p.closed for p in protocols))
    return count / elapsed, samples, warm_up + len(done)


def _concurrent_worker(args: tuple[int, bytes, int, float]) -> tuple[float, list[float], int]:
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up of the client side

        return uvloop.run(_concurrent_async(*args))
    except ImportError:
        return asyncio.run(_concurrent_async(*args))


@dataclass
class Workload:
    """One kind of request, measured in every round."""

    name: str
    server: str  # "bare", "noop", "durable" or "runnerkit"
    path: str
    body: bytes
    content_type: str = PROTO
    connections: int = 1
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    cpu_per_call: list[float] = field(default_factory=list)

    def key(self) -> tuple[str, str, int]:
        """What a ratio compares: the same RPC, codec and connections on another server."""
        return self.path.rsplit("/", 1)[-1], self.content_type, self.connections


@dataclass
class Servers:
    """The ports and processes of the three servers."""

    ports: dict[str, int]
    procs: dict[str, subprocess.Popen[bytes]]


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            msg = f"server on port {port} exited with {proc.returncode}"
            raise RuntimeError(msg)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _start(tmp: Path) -> Servers:
    ports = {name: _free_port() for name in ("bare", "noop", "durable", "runnerkit", "libs")}
    env = {**os.environ, "RUNNERKIT_ADMIN_TOKEN": ADMIN_TOKEN}
    server_env = dict(env)
    if extra := os.environ.get("BENCH_SERVER_PYTHONPATH"):
        server_env["PYTHONPATH"] = extra + os.pathsep + env.get("PYTHONPATH", "")
    procs = {
        "bare": _spawn(["-c", _BARE_APP, str(ports["bare"])], env),
        "noop": _spawn(["-c", _NOOP_APP, str(ports["noop"])], env),
        "durable": _spawn(["-c", _NOOP_APP, str(ports["durable"]), str(tmp / "noop.db")], env),
        "runnerkit": _spawn(
            [
                "-m",
                "runnerkit.server",
                "--port",
                str(ports["runnerkit"]),
                "--db",
                str(tmp / "b.db"),
            ],
            server_env,
        ),
        "libs": _spawn(["-c", _LIBS_IMPORTS + _BARE_APP, str(ports["libs"])], server_env),
    }
    return Servers(ports, procs)


def _seed(port: int) -> str:
    """Create 100 runners; the id of the first."""
    client = runner_connect.RunnerServiceClientSync(f"http://127.0.0.1:{port}")
    auth = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    create = _create_request()
    try:
        runner_id = client.create_runner(create, headers=auth).runner.runner_id
        for _ in range(99):
            client.create_runner(create, headers=auth)
    finally:
        client.close()
    return runner_id


def _create_request() -> runner_pb2.CreateRunnerRequest:
    return runner_pb2.CreateRunnerRequest(
        name="bench", provider=runner_configuration_pb2.RunnerProvider.RUNNER_PROVIDER_AWS_EC2
    )


def _workloads(runner_id: str) -> Iterator[Workload]:
    get = runner_pb2.GetRunnerRequest(runner_id=runner_id).SerializeToString()
    get_json = json.dumps({"runnerId": runner_id}).encode()
    listing = runner_pb2.ListRunnersRequest()
    listing.pagination.page_size = 25
    create = _create_request().SerializeToString()
    for conns in (1, 8, 32):
        yield Workload(f"floor, {conns} conn", "bare", "/", b"", connections=conns)
    yield Workload("CreateRunner (durable)", "durable", RPC + "CreateRunner", create)
    yield Workload("CreateRunner, 8 conn", "durable", RPC + "CreateRunner", create, connections=8)
    for server in ("noop", "runnerkit"):
        yield Workload("GetRunner, binary", server, RPC + "GetRunner", get)
        yield Workload("GetRunner, JSON", server, RPC + "GetRunner", get_json, JSON)
        yield Workload(
            "ListRunners 25/page", server, RPC + "ListRunners", listing.SerializeToString()
        )
        yield Workload("CreateRunner (durable)", server, RPC + "CreateRunner", create)
        for conns in (8, 32):
            yield Workload(
                f"GetRunner, binary, {conns} conn",
                server,
                RPC + "GetRunner",
                get,
                connections=conns,
            )
        yield Workload("CreateRunner, 8 conn", server, RPC + "CreateRunner", create, connections=8)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_times() -> tuple[int, int]:
    """The machine's (steal, total) CPU time so far, in clock ticks (``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text(encoding="ascii").split()[1:9]]
    return fields[7], sum(fields)


def _steal_line(before: tuple[int, int], after: tuple[int, int]) -> str:
    total = max(after[1] - before[1], 1)
    share = (after[0] - before[0]) / total
    return (
        f"\nCPU steal while measuring: {share:.0%} of the cores' time went to other virtual "
        "machines (absolute figures drop with it; compare the ratios)."
    )


def _measure(workload: Workload, port: int, pid: int, seconds: float, pool: Pool) -> None:
    request = _request_bytes(port, workload.path, workload.body, workload.content_type)
    cpu_before = _cpu_s(pid)
    if workload.connections == 1:
        rate, samples, calls = _sequential(port, request, seconds)
    else:
        procs = max(1, min(pool._processes, workload.connections))  # type: ignore[attr-defined]
        per = [workload.connections // procs] * procs
        per[0] += workload.connections - sum(per)
        results = pool.map(_concurrent_worker, [(port, request, n, seconds) for n in per])
        rate = sum(r for r, _, _ in results)
        samples = [s for _, batch, _ in results for s in batch]
        calls = sum(n for _, _, n in results)
    workload.cpu_per_call.append((_cpu_s(pid) - cpu_before) / max(calls, 1))
    workload.rates.append(rate)
    workload.latencies.extend(samples)


def _pct(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _report(workloads: list[Workload], servers: Servers) -> None:
    floors = {w.connections: w for w in workloads if w.server == "bare"}
    # runnerkit against the no-op doing the same RPC; a durable write against the durable no-op.
    noops = {w.key(): w for w in workloads if w.server == "noop"}
    noops.update({w.key(): w for w in workloads if w.server == "durable"})
    print(
        f"{'server':10} {'workload':30} {'calls/s':>8} {'x floor':>7} {'x no-op':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'cpu us':>7} {'x floor':>7} {'x no-op':>7}"
    )
    for w in workloads:
        rate, cpu = statistics.median(w.rates), statistics.median(w.cpu_per_call)
        floor = floors.get(w.connections) or floors[1]
        noop = noops.get(w.key()) if w.server == "runnerkit" else None
        floor_rate = statistics.median(floor.rates)
        floor_cpu = statistics.median(floor.cpu_per_call)
        vs_noop = cpu_vs_noop = f"{'':7}"
        if noop is not None:
            vs_noop = f"{rate / statistics.median(noop.rates):7.2f}"
            cpu_vs_noop = f"{statistics.median(noop.cpu_per_call) / cpu:7.2f}"
        print(
            f"{w.server:10} {w.name:30} {rate:8.0f} {rate / floor_rate:7.2f} {vs_noop} "
            f"{_pct(w.latencies, 0.5):7.3f} {_pct(w.latencies, 0.99):7.3f} "
            f"{cpu * 1e6:7.0f} {floor_cpu / cpu:7.2f} {cpu_vs_noop}"
        )
    print(
        "\ncalls/s and latency: the client's view (noisy on a busy machine); cpu us: the server "
        "process's CPU time per call, and the floor's or no-op's CPU per call divided by it "
        "(steadier). runnerkit's CreateRunner is compared with the durable no-op (one fsync'd "
        "SQLite commit off the event loop), its reads with the no-op."
    )
    rss = {name: _peak_rss_kib(proc.pid) for name, proc in servers.procs.items()}
    bare = max(rss["bare"], 1)
    print(
        "\npeak RSS (VmHWM): "
        + ", ".join(f"{n} {v / 1024:.1f} MiB ({v / bare:.2f}x bare)" for n, v in rss.items())
        + "\n(libs: the bare app after importing the server's libraries, none of runnerkit's "
        "modules)"
    )


def main(argv: list[str]) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per workload and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2, help="client processes (concurrent)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="runnerkit-bench-") as tmp:
        servers = _start(Path(tmp))
        pool = multiprocessing.get_context("spawn").Pool(args.clients)
        try:
            for name, port in servers.ports.items():
                _wait_port(port, servers.procs[name])
            workloads = list(_workloads(_seed(servers.ports["runnerkit"])))
            steal_before = _cpu_times()
            for round_ in range(args.rounds):
                print(f"round {round_ + 1}/{args.rounds}", file=sys.stderr, flush=True)
                for w in workloads:
                    proc = servers.procs[w.server]
                    _measure(w, servers.ports[w.server], proc.pid, args.seconds, pool)
            steal_after = _cpu_times()
            _report(workloads, servers)
            print(_steal_line(steal_before, steal_after))
        finally:
            pool.terminate()
            for proc in servers.procs.values():
                proc.terminate()
                proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
