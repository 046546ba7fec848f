"""Fixtures for the interop tests: the real server on loopback, grpcio stubs and client.

``interop_server`` runs the real server (``running_server``: uvicorn + zttp as ``serve`` does)
on 127.0.0.1 with a free port, once per module, with the GitHub stub behind the SCM RPCs.
``grpc_stubs`` are generated from ``proto/`` with ``grpc_tools.protoc`` into a temporary
directory once per session; ``grpcio`` is a ``GrpcioClient`` on that server (see
``grpcio_driver.py``: grpcio runs in its own process).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from runnerkit.server.scm import SCMConfig
from tests.server.scm.stubs import run_stub
from tests.support.server import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
DRIVER = Path(__file__).with_name("grpcio_driver.py")


@dataclass
class Server:
    """A running server: ``base_url`` (``http://127.0.0.1:PORT``), ``address``, admin token."""

    base_url: str
    token: str
    directory: Path
    scm_api: str

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, as gRPC clients take it."""
        return self.base_url.removeprefix("http://")


@pytest.fixture(scope="module")
def interop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("interop")
    with run_stub("github") as stub:
        scm = SCMConfig(api_base_urls={"github.com": stub.api_base})
        with running_server(directory, scm=scm) as (base_url, token):
            yield Server(base_url, token, directory, stub.api_base)


@pytest.fixture(scope="session")
def grpc_stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grpc_stubs")
    protos = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            *protos,
        ],
        check=True,
        cwd=ROOT,
    )
    return out


class GrpcioClient:
    """Talks to ``grpcio_driver.py``: each call is a grpcio call on one channel."""

    def __init__(self, stub_dir: Path, address: str) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(DRIVER), str(stub_dir), address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(command) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        assert line, "the grpcio driver exited"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def call(
        self,
        method: str,
        request: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        metadata: list[tuple[str, str]] = (),  # type: ignore[assignment]
        big: int = 0,
        gzip: bool = False,
    ) -> dict[str, Any]:
        """Call ``Service/Method`` (service without ``gitpod.v1.``) with a JSON request."""
        command = self.command(method, request, token=token, metadata=metadata, big=big)
        command["gzip"] = gzip
        return self._ask(command)

    @staticmethod
    def command(
        method: str,
        request: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        metadata: list[tuple[str, str]] = (),  # type: ignore[assignment]
        big: int = 0,
    ) -> dict[str, Any]:
        """The driver command for one call (see ``call``)."""
        full = method if method.startswith("grpc.") else f"gitpod.v1.{method}"
        pairs = [list(p) for p in metadata]
        if token is not None:
            pairs.append(["authorization", f"Bearer {token}"])
        return {
            "op": "call",
            "method": full,
            "request": request or {},
            "metadata": pairs,
            "big": big,
        }

    def raw(self, path: str) -> dict[str, Any]:
        """Call any path with an empty request (no stub needed)."""
        return self._ask({"op": "raw", "path": path})

    def concurrent(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run ``commands`` (from ``command``) at once on the one connection."""
        results: list[dict[str, Any]] = self._ask({"op": "concurrent", "calls": commands})[
            "results"
        ]
        return results

    def close(self) -> None:
        """Stop the driver."""
        self._proc.communicate(timeout=30)  # closes stdin, reads stdout to its end


@pytest.fixture
def grpcio(grpc_stubs: Path, interop_server: Server) -> Iterator[GrpcioClient]:
    client = GrpcioClient(grpc_stubs, interop_server.address)
    try:
        yield client
    finally:
        client.close()
