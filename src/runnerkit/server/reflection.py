"""gRPC server reflection (``grpc.reflection.v1`` and ``v1alpha``) for grpcurl and buf curl.

``connectrpc-grpcreflect`` serves the protocol; it takes protobuf-py descriptors, while our
generated code uses Google protobuf, so the files are handed over as their serialized
``FileDescriptorProto`` (with every import, resolved from the pool that registered them).
Clients then list and describe ``gitpod.v1.RunnerService``, ``RunnerConfigurationService``,
``grpc.health.v1.Health`` and the reflection services, and call them without the schema.

The library, its generated code and the descriptors are loaded on the first reflection
request, not when the server starts (~4 MiB of a server's memory that most never need).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Iterable

    from google.protobuf.descriptor import FileDescriptor
    from protobuf import DescFile

    from runnerkit.server.asgi import ASGIApp, Receive, Scope, Send

# The URL paths the reflection services are mounted at (``ServerReflection*ASGIApplication.path``).
V1_PATH = "/grpc.reflection.v1.ServerReflection"
V1ALPHA_PATH = "/grpc.reflection.v1alpha.ServerReflection"


def _desc_file(file: FileDescriptor, done: dict[str, DescFile]) -> DescFile:
    """The protobuf-py descriptor of a Google protobuf file, its imports first."""
    # What protoc-gen-py's generated code calls to build a descriptor from serialized bytes.
    from protobuf._codegen import file_desc  # noqa: PLC0415 - on the first reflection request

    if file.name not in done:
        deps = [_desc_file(dep, done) for dep in file.dependencies]
        done[file.name] = file_desc(file.serialized_pb, deps, {})
    return done[file.name]


def _build_apps(files: Iterable[FileDescriptor]) -> dict[str, ASGIApp]:
    """The reflection apps (v1 and v1alpha) of the services of ``files``, by URL prefix."""
    from connectrpc_grpcreflect import (  # noqa: PLC0415 - on the first reflection request
        ServerReflectionAlphaASGIApplication,
        ServerReflectionAlphaService,
        ServerReflectionASGIApplication,
        ServerReflectionService,
    )

    done: dict[str, DescFile] = {}
    descs = [_desc_file(file, done) for file in files]
    v1 = ServerReflectionASGIApplication(ServerReflectionService(*descs))
    v1alpha = ServerReflectionAlphaASGIApplication(ServerReflectionAlphaService(*descs))
    return {
        f"{v1.path}/": cast("ASGIApp", v1),
        f"{v1alpha.path}/": cast("ASGIApp", v1alpha),
    }


class _Reflection:
    """The reflection apps, built on the first request to either (on the event loop's thread)."""

    def __init__(self, files: Iterable[FileDescriptor]) -> None:
        self._files = tuple(files)
        self._apps: dict[str, ASGIApp] | None = None

    def mount(self, prefix: str) -> ASGIApp:
        """The app to mount at ``prefix``: builds the apps on its first call, then forwards."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if self._apps is None:
                self._apps = _build_apps(self._files)
            await self._apps[prefix](scope, receive, send)

        return app


def reflection_apps(files: Iterable[FileDescriptor]) -> dict[str, ASGIApp]:
    """Reflection apps for the services of ``files``, by URL prefix (v1 and v1alpha).

    Args:
        files: The files whose services clients may discover (with their imports).

    Returns:
        URL prefix → ASGI app; the library is loaded on the first request to one of them.
    """
    reflection = _Reflection(files)
    return {f"{path}/": reflection.mount(f"{path}/") for path in (V1_PATH, V1ALPHA_PATH)}
