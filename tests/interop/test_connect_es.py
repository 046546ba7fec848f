"""connect-es 2.x (Node, stubs from protoc-gen-es) over Connect, gRPC and gRPC-Web, h1 and h2c."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.interop.conftest import PROTO, ROOT

if TYPE_CHECKING:
    from tests.interop.conftest import Server

NODE = Path(__file__).with_name("node")
BUF = Path(sys.executable).with_name("buf")
TRANSPORTS = {
    "connect-proto-h2c": "application/proto",
    "connect-json-h2c": "application/json",
    "connect-get-h2c": "application/proto",
    "connect-json-h1": "application/json",
    "grpc-h2c": "application/grpc+proto",
    "grpc-web-h1": "application/grpc-web+proto",
    "grpc-web-h2c": "application/grpc-web+proto",
}


@pytest.fixture(scope="module")
def es_stubs() -> Path:
    plugin = NODE / "node_modules" / ".bin" / "protoc-gen-es"
    assert plugin.exists(), "Node packages missing: run `make node-deps` (make check does)"
    template = {
        "version": "v2",
        "clean": True,
        "plugins": [
            {
                "local": str(plugin),
                "out": str(NODE / "gen"),
                "opt": ["target=js", "import_extension=js"],
            }
        ],
    }
    env = {**os.environ, "BUF_CACHE_DIR": str(ROOT / ".cache" / "buf")}
    subprocess.run(
        [str(BUF), "generate", str(PROTO), "--template", json.dumps(template)],
        check=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    return NODE / "gen"


def test_connect_es_every_transport(es_stubs: Path, interop_server: Server):
    out = subprocess.run(
        ["node", "client.mjs", interop_server.base_url, interop_server.token],
        cwd=NODE,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(out.stdout)
    assert set(results) == set(TRANSPORTS)
    for transport, content_type in TRANSPORTS.items():
        got = results[transport]
        assert got == {
            "created": f"es {transport}",
            "contentType": content_type,
            "got": True,
            "listedIncludes": True,
            "listedOnlyGcp": True,
            "schema": True,
            "unauthenticated": "Unauthenticated: missing or invalid bearer token",
            "invalid": "InvalidArgument: runner_id: must be a valid UUID",
            "notFound": "NotFound: runner 00000000-0000-4000-8000-000000000000 not found",
            "deleted": "ok",
        }, transport
