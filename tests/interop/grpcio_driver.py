"""A grpcio client in its own process, driven by JSON lines on stdin (one answer per line).

Run as ``python grpcio_driver.py STUB_DIR ADDRESS``: STUB_DIR holds the ``*_pb2.py`` and
``*_pb2_grpc.py`` modules ``grpc_tools.protoc`` generated from ``proto/``. It runs apart from
the tests because those modules register ``gitpod/v1/*.proto`` in protobuf's default pool,
where the server's own generated code already is.

Commands (one JSON object a line):

- ``{"op": "call", "method": "gitpod.v1.RunnerService/GetRunner", "request": {...JSON...},
  "metadata": [["authorization", "Bearer ..."]], "big": 0, "gzip": false}`` → ``{"code": "OK",
  "details": "", "response": {...}, "initial": [[k, v]], "trailing": [[k, v]]}``; ``big``
  pads the request with that many bytes of unknown field 9999 (a body the server must drain);
  ``gzip`` compresses the request;
- ``{"op": "raw", "path": "/any.Service/Method"}`` → ``{"code", "details"}`` (empty request);
- ``{"op": "concurrent", "calls": [call, ...]}`` → ``{"results": [answer, ...]}``: all calls
  at once on the one channel (one HTTP/2 connection, one stream each).
"""

from __future__ import annotations

import base64
import concurrent.futures
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
from google.protobuf import json_format, message_factory

STUBS: dict[str, Any] = {}  # "gitpod.v1.RunnerService" -> stub class, filled by load()
INPUTS: dict[str, Any] = {}  # "gitpod.v1.RunnerService/GetRunner" -> request class


def load(stub_dir: Path) -> None:
    """Import every generated module and index the services' stubs and request types."""
    sys.path.insert(0, str(stub_dir))
    for path in sorted(stub_dir.rglob("*_pb2_grpc.py")):
        name = ".".join(path.relative_to(stub_dir).with_suffix("").parts)
        grpc_module = importlib.import_module(name)
        pb2 = importlib.import_module(name.removesuffix("_grpc"))
        for service in pb2.DESCRIPTOR.services_by_name.values():
            STUBS[service.full_name] = getattr(grpc_module, f"{service.name}Stub")
            for method in service.methods:
                INPUTS[f"{service.full_name}/{method.name}"] = message_factory.GetMessageClass(
                    method.input_type
                )


def call(channel: grpc.Channel, cmd: dict[str, Any]) -> dict[str, Any]:
    """One unary call; the outcome as JSON-ready data."""
    service, _, method = cmd["method"].partition("/")
    stub = STUBS[service](channel)
    request = json_format.ParseDict(cmd.get("request", {}), INPUTS[cmd["method"]]())
    payload = request.SerializeToString()
    if cmd.get("big"):
        # unknown field 9999, length-delimited: tag, length varint, bytes
        size = int(cmd["big"])
        varint = bytearray()
        n = size
        while True:
            byte = n & 0x7F
            n >>= 7
            varint.append(byte | (0x80 if n else 0))
            if not n:
                break
        payload += b"\xfa\xf0\x04" + bytes(varint) + b"x" * size
        request = type(request).FromString(payload)
    metadata = [
        (key, value.encode() if key.endswith("-bin") else value)
        for key, value in cmd.get("metadata", [])
    ]
    try:
        response, rpc = getattr(stub, method).with_call(
            request,
            metadata=metadata,
            timeout=cmd.get("timeout", 20),
            compression=grpc.Compression.Gzip if cmd.get("gzip") else None,
        )
    except grpc.RpcError as exc:
        return {
            "code": exc.code().name,
            "details": exc.details(),
            "response": None,
            "initial": _pairs(exc.initial_metadata()),
            "trailing": _pairs(exc.trailing_metadata()),
        }
    return {
        "code": "OK",
        "details": "",
        "response": json_format.MessageToDict(response),
        "initial": _pairs(rpc.initial_metadata()),
        "trailing": _pairs(rpc.trailing_metadata()),
    }


def _pairs(metadata: Any) -> list[list[str]]:
    """Metadata as JSON: ``-bin`` values (bytes) base64-encoded."""
    return [
        [key, base64.b64encode(value).decode() if isinstance(value, bytes) else value]
        for key, value in metadata or ()
    ]


def main() -> None:
    """Serve commands from stdin until it closes."""
    load(Path(sys.argv[1]))
    with grpc.insecure_channel(sys.argv[2]) as channel:
        pool = concurrent.futures.ThreadPoolExecutor(32)
        for line in sys.stdin:
            cmd = json.loads(line)
            answer: dict[str, Any]
            if cmd["op"] == "raw":  # any path, an empty request
                try:
                    channel.unary_unary(cmd["path"])(b"", timeout=20)
                    answer = {"code": "OK", "details": ""}
                except grpc.RpcError as exc:
                    answer = {"code": exc.code().name, "details": exc.details()}
            elif cmd["op"] == "concurrent":
                futures = [pool.submit(call, channel, c) for c in cmd["calls"]]
                answer = {"results": [f.result() for f in futures]}
            else:
                answer = call(channel, cmd)
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
        pool.shutdown()


if __name__ == "__main__":
    main()
