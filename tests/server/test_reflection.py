"""gRPC server reflection: mounted at the library's paths, loaded on the first request.

Listing and describing services through reflection is tested with grpcurl and buf curl in
``tests/interop/test_cli_clients.py``.
"""

from __future__ import annotations

import subprocess
import sys

from connectrpc_grpcreflect import (
    ServerReflectionAlphaASGIApplication,
    ServerReflectionAlphaService,
    ServerReflectionASGIApplication,
    ServerReflectionService,
)

from runnerkit.server.reflection import V1_PATH, V1ALPHA_PATH, reflection_apps
from runnerkit_proto.gitpod.v1 import runner_pb2


def test_the_mount_paths_are_the_library_s():
    v1 = ServerReflectionASGIApplication(ServerReflectionService())
    v1alpha = ServerReflectionAlphaASGIApplication(ServerReflectionAlphaService())
    assert (v1.path, v1alpha.path) == (V1_PATH, V1ALPHA_PATH)
    assert set(reflection_apps([runner_pb2.DESCRIPTOR])) == {f"{V1_PATH}/", f"{V1ALPHA_PATH}/"}


def test_the_library_is_loaded_on_the_first_request_only():
    """Building the server's app does not import the reflection library (server memory)."""
    code = (
        "import sys\n"
        "from runnerkit.server.reflection import reflection_apps\n"
        "from runnerkit_proto.gitpod.v1 import runner_pb2\n"
        "reflection_apps([runner_pb2.DESCRIPTOR])\n"
        "print('connectrpc_grpcreflect' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
