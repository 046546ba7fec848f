"""gRPC server reflection (``grpc.reflection.v1`` and ``v1alpha``) for grpcurl and buf curl.

``connectrpc-grpcreflect`` serves the protocol; it takes protobuf-py descriptors, while our
generated code uses Google protobuf, so the files are handed over as their serialized
``FileDescriptorProto`` (with every import, resolved from the pool that registered them).
Clients then list and describe ``gitpod.v1.RunnerService``, ``RunnerConfigurationService``,
``grpc.health.v1.Health`` and the reflection services, and call them without the schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from connectrpc_grpcreflect import (
    ServerReflectionAlphaASGIApplication,
    ServerReflectionAlphaService,
    ServerReflectionASGIApplication,
    ServerReflectionService,
)

# What protoc-gen-py's generated code calls to build a descriptor from serialized bytes.
from protobuf._codegen import file_desc

if TYPE_CHECKING:
    from collections.abc import Iterable

    from google.protobuf.descriptor import FileDescriptor
    from protobuf import DescFile

    from runnerkit.server.asgi import ASGIApp


def _desc_file(file: FileDescriptor, done: dict[str, DescFile]) -> DescFile:
    """The protobuf-py descriptor of a Google protobuf file, its imports first."""
    if file.name not in done:
        deps = [_desc_file(dep, done) for dep in file.dependencies]
        done[file.name] = file_desc(file.serialized_pb, deps, {})
    return done[file.name]


def reflection_apps(files: Iterable[FileDescriptor]) -> dict[str, ASGIApp]:
    """Reflection apps for the services of ``files``, by URL prefix (v1 and v1alpha)."""
    done: dict[str, DescFile] = {}
    descs = [_desc_file(file, done) for file in files]
    v1 = ServerReflectionASGIApplication(ServerReflectionService(*descs))
    v1alpha = ServerReflectionAlphaASGIApplication(ServerReflectionAlphaService(*descs))
    return {
        f"{v1.path}/": cast("ASGIApp", v1),
        f"{v1alpha.path}/": cast("ASGIApp", v1alpha),
    }
