"""Benchmark runnerkit's client against the PyPI gitpod-sdk clients, side by side in one run.

Starts ``runnerkit serve`` on loopback (a fresh SQLite file), creates a runner, and then times
sequential GetRunner calls from four clients, each in its own process, in interleaved rounds
(so every client sees the same machine noise):

- ``runnerkit.Client`` (the facade; binary protobuf, default settings);
- the generated ``RunnerServiceClientSync`` of runnerkit (no facade, no compression);
- the official connectrpc SDK, gitpod-sdk 1.2 (``ona_sdk.OnaClient``; binary protobuf);
- the Stainless SDK, gitpod-sdk 0.11 (``gitpod.Gitpod``; JSON over httpx).

The two SDKs are installed into throwaway virtualenvs under ``.cache/bench/`` (never project
dependencies: 1.2 pins protobuf<6 and connectrpc 0.11, and both own the top-level ``gitpod``
package). Then the cold start: import + construct + first call, in a fresh process whose
bytecode is already cached (warm), for each client, and the import of connectrpc alone (what
every connectrpc-based client, runnerkit's and the official SDK's, pays before anything else).

Printed: p50 per client, the ratios of runnerkit to each, and the cold starts. These machines
are noisy: read the ratios. Usage: ``python scripts/bench_client.py [--calls N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"
ADMIN_TOKEN = "rk_bench_admin_token_0123456789abcdef"  # noqa: S105 - throwaway local server
SDKS = {"sdk-0.11": "gitpod-sdk==0.11.0", "sdk-1.2": "gitpod-sdk==1.2.0"}

# One call of GetRunner per client kind, after `setup(url, token, runner_id)`.
_CLIENTS = r"""
import sys, time, json

def setup(kind, url, token, runner_id):
    if kind == "runnerkit":
        import runnerkit
        client = runnerkit.Client(base_url=url, bearer_token=token)
        return lambda: client.runners.retrieve(runner_id=runner_id)
    if kind == "generated":
        from runnerkit_proto.gitpod.v1 import runner_connect, runner_pb2
        service = runner_connect.RunnerServiceClientSync(url, send_compression=None)
        request = runner_pb2.GetRunnerRequest(runner_id=runner_id)
        headers = {"authorization": "Bearer " + token}
        return lambda: service.get_runner(request, headers=headers)
    if kind == "official-1.2":
        from ona_sdk.client import OnaClient
        from gitpod.v1 import runner_pb2
        client = OnaClient(api_key=token, base_url=url)
        return lambda: client.services.runner.get_runner(
            runner_pb2.GetRunnerRequest(runner_id=runner_id))
    if kind == "stainless-0.11":
        from gitpod import Gitpod
        client = Gitpod(bearer_token=token, base_url=url, max_retries=0)
        return lambda: client.runners.retrieve(runner_id=runner_id)
    raise SystemExit("unknown client " + kind)
"""

_WORKER = (
    _CLIENTS
    + r"""
call = setup(*sys.argv[1:5])
name = call().runner.name
assert name == "bench runner", name
print("ready", flush=True)
for line in sys.stdin:
    times = []
    for _ in range(int(line)):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    print(json.dumps(times), flush=True)
"""
)

_COLD = (
    "import time\nT0 = time.perf_counter()\n"
    + _CLIENTS
    + r"""
call = setup(*sys.argv[1:5])
call()
print(json.dumps((time.perf_counter() - T0) * 1000))
"""
)


# The floor of any connectrpc client's cold start: importing the library (which imports
# protobuf-py and reads its own version from the installed metadata), before anything else.
_COLD_CONNECTRPC = r"""
import json, time
T0 = time.perf_counter()
import connectrpc.client
print(json.dumps((time.perf_counter() - T0) * 1000))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sdk_python(name: str) -> str:
    """The interpreter of a throwaway venv holding one gitpod-sdk release (made once)."""
    directory = CACHE / name
    python = directory / "bin" / "python"
    marker = directory / ".installed"
    if not marker.exists():
        print(f"installing {SDKS[name]} into {directory} ...", file=sys.stderr)
        venv.create(directory, with_pip=True, clear=True)
        subprocess.run(  # noqa: S603 - pip of our own throwaway venv
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                SDKS[name],
            ],
            check=True,
        )
        marker.touch()
    return str(python)


class Worker:
    """One client in its own process, timing calls when asked."""

    def __init__(
        self, name: str, python: str, args: list[str], env: dict[str, str] | None = None
    ) -> None:
        self.kind = name
        self.times: list[float] = []
        self.proc = subprocess.Popen(  # noqa: S603 - our own worker code
            [python, "-c", _WORKER, name.partition("@")[0], *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tempfile.gettempdir(),
            env=env,
        )
        assert self.proc.stdout is not None  # noqa: S101
        ready = self.proc.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"{name} did not start")

    def run(self, calls: int) -> None:
        """Time ``calls`` sequential calls in the worker."""
        assert self.proc.stdin is not None  # noqa: S101
        assert self.proc.stdout is not None  # noqa: S101
        self.proc.stdin.write(f"{calls}\n")
        self.proc.stdin.flush()
        self.times += json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        """Let the worker exit."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)

    @property
    def p50_ms(self) -> float:
        """Median latency so far, in milliseconds."""
        return statistics.median(self.times) * 1000


def _cold_start(
    name: str,
    python: str,
    args: list[str],
    runs: int,
    env: dict[str, str] | None,
    *,
    script: str = _COLD,
) -> float:
    samples = []
    # Warm means the bytecode cache is written: not with PYTHONDONTWRITEBYTECODE (set on some
    # machines), which would leave an editable install compiling its sources on every start
    # while the SDKs' wheels were compiled by pip at install time.
    env = {k: v for k, v in (env or os.environ).items() if k != "PYTHONDONTWRITEBYTECODE"}
    for i in range(runs + 1):
        done = subprocess.run(  # noqa: S603 - our own code
            [python, "-c", script, name.partition("@")[0], *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=tempfile.gettempdir(),
            env=env,
        )
        if i:  # the first run compiles and caches bytecode: not warm
            samples.append(float(done.stdout))
    return statistics.median(samples)


def _export(ref: str, directory: Path) -> str:
    """Check out ``src/`` and ``gen/`` of a git ref; the PYTHONPATH that imports them."""
    directory.mkdir(parents=True)
    archive = subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "archive", ref, "src", "gen"],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    return f"{directory / 'src'}:{directory / 'gen'}"


def _create_runner(url: str) -> str:
    from runnerkit.client import Client  # noqa: PLC0415 - after the server is up

    with Client(base_url=url, bearer_token=ADMIN_TOKEN) as client:
        response = client.runners.create(name="bench runner", provider="RUNNER_PROVIDER_AWS_EC2")
        return response.runner.runner_id


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=25, help="calls per client and round")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument(
        "--baseline",
        metavar="REF",
        default=None,
        help="also time runnerkit.Client as of this git ref (e.g. main), for before/after",
    )
    args = parser.parse_args(argv)

    pythons = {
        "runnerkit": sys.executable,
        "generated": sys.executable,
        "official-1.2": _sdk_python("sdk-1.2"),
        "stainless-0.11": _sdk_python("sdk-0.11"),
    }
    envs: dict[str, dict[str, str] | None] = dict.fromkeys(pythons)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="runnerkit-bench-client-") as tmp:
        if args.baseline:
            name = f"runnerkit@{args.baseline}"
            pythons[name] = sys.executable
            envs[name] = {**os.environ, "PYTHONPATH": _export(args.baseline, Path(tmp) / "base")}
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-m", "runnerkit.server", "--port", str(port), "--db", f"{tmp}/b.db"],
            env={**os.environ, "RUNNERKIT_ADMIN_TOKEN": ADMIN_TOKEN},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        workers: list[Worker] = []
        try:
            _wait_port(port)
            url = f"http://127.0.0.1:{port}"
            client_args = [url, ADMIN_TOKEN, _create_runner(url)]
            workers = [Worker(k, p, client_args, envs[k]) for k, p in pythons.items()]
            for w in workers:
                w.run(30)  # warm-up, discarded
                w.times.clear()
            for r in range(args.rounds):
                order = workers[r % len(workers) :] + workers[: r % len(workers)]
                for w in order:
                    w.run(args.calls)
            cold = {
                k: _cold_start(k, p, client_args, args.cold_runs, envs[k])
                for k, p in pythons.items()
            }
            connectrpc_import = _cold_start(
                "connectrpc", sys.executable, [], args.cold_runs, None, script=_COLD_CONNECTRPC
            )
        finally:
            for w in workers:
                w.close()
            server.terminate()
            server.wait(timeout=30)

    p50 = {w.kind: w.p50_ms for w in workers}
    print(f"GetRunner, sequential, one connection: p50 over {args.rounds} x {args.calls} calls")
    for kind, value in p50.items():
        print(
            f"  {kind:<16} {value:7.3f} ms   runnerkit is {value / p50['runnerkit']:.2f}x its speed"
        )
    print(
        f"  facade overhead over the generated client: {p50['runnerkit'] / p50['generated'] - 1:+.1%}"
    )
    print("cold start (import + construct + first call, warm bytecode cache), median:")
    for kind, value in cold.items():
        print(f"  {kind:<16} {value:7.1f} ms")
    print(
        f"  of which any connectrpc client pays for `import connectrpc.client` alone: "
        f"{connectrpc_import:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
