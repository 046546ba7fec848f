"""The compiled gitpod.v1 schema as descriptor protos, for the schema tests."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from google.protobuf import descriptor_pb2
from google.protobuf.message_factory import GetMessageClass

from runnerkit_proto.gitpod.v1 import (
    agent_pb2,
    gateway_pb2,
    identity_pb2,
    pagination_pb2,
    runner_configuration_pb2,
    runner_pb2,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from google.protobuf.descriptor import Descriptor, FileDescriptor, MethodDescriptor
    from google.protobuf.message import Message

MODULES = (
    agent_pb2,
    gateway_pb2,
    identity_pb2,
    pagination_pb2,
    runner_configuration_pb2,
    runner_pb2,
)


def files() -> list[FileDescriptor]:
    """Every generated gitpod/v1 file descriptor."""
    return [m.DESCRIPTOR for m in MODULES]


@cache
def file_protos() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """FileDescriptorProto of every generated gitpod/v1 file, keyed by file name."""
    out = {}
    for fd in files():
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        out[fd.name] = proto
    return out


def messages() -> Iterator[Descriptor]:
    """Every message descriptor of the schema, nested ones included."""

    def walk(desc: Descriptor) -> Iterator[Descriptor]:
        yield desc
        for nested in desc.nested_types:
            yield from walk(nested)

    for fd in files():
        for desc in fd.message_types_by_name.values():
            yield from walk(desc)


def methods() -> dict[str, MethodDescriptor]:
    """Every RPC, keyed ``Service/Method`` (e.g. ``RunnerService/CreateRunner``)."""
    return {
        f"{service.name}/{method.name}": method
        for fd in files()
        for service in fd.services_by_name.values()
        for method in service.methods
    }


def message_class(desc: Descriptor) -> type[Message]:
    """The generated Python class of ``desc``."""
    return GetMessageClass(desc)
