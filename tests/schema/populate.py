"""Build fully populated instances of any message: every field set, each oneof branch in turn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from tests.schema.descriptors import message_class

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor, OneofDescriptor
    from google.protobuf.message import Message

_MAX_DEPTH = 6


def real_oneofs(desc: Descriptor) -> list[OneofDescriptor]:
    """The message's oneofs, without the synthetic ones proto3 ``optional`` creates."""
    proto = descriptor_pb2.DescriptorProto()
    desc.CopyToProto(proto)
    synthetic = {proto.oneof_decl[f.oneof_index].name for f in proto.field if f.proto3_optional}
    return [o for o in desc.oneofs if o.name not in synthetic]


def variant_count(desc: Descriptor) -> int:
    """How many instances it takes to set every branch of every oneof at least once."""
    return max([len(o.fields) for o in real_oneofs(desc)], default=1)


def _scalar(field: FieldDescriptor, seed: int) -> object:
    t = field.type
    if t == FieldDescriptor.TYPE_STRING:
        return f"{field.name}-{seed}-é✓"
    if t == FieldDescriptor.TYPE_BYTES:
        return bytes([seed % 256, 0, 255]) + field.name.encode()
    if t == FieldDescriptor.TYPE_BOOL:
        return True
    if t == FieldDescriptor.TYPE_ENUM and field.enum_type is not None:
        values = field.enum_type.values
        return values[(seed % (len(values) - 1)) + 1].number  # never the zero value
    if t in {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64}:
        return -(1000 + seed)
    if t in {FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64}:
        return 4_000_000_000 + seed if t == FieldDescriptor.TYPE_UINT32 else 2**40 + seed
    raise AssertionError(f"no sample value for {field.full_name}")


def populate(desc: Descriptor, variant: int = 0, depth: int = 0) -> Message:
    """An instance of ``desc`` with every field set; oneofs take branch ``variant`` (mod size)."""
    msg = message_class(desc)()
    chosen = {o.fields[variant % len(o.fields)].name for o in real_oneofs(desc)}
    in_oneof = {f.name for o in real_oneofs(desc) for f in o.fields}
    for i, field in enumerate(desc.fields):
        if field.name in in_oneof and field.name not in chosen:
            continue
        seed = depth * 100 + i + variant
        if field.message_type is not None:
            if depth >= _MAX_DEPTH:
                continue
            if field.message_type.full_name == "google.protobuf.Timestamp":
                values = [_timestamp(seed, k) for k in range(2)]
            elif field.message_type.full_name == "google.protobuf.Duration":
                values = [_duration(seed, k) for k in range(2)]
            else:
                values = [populate(field.message_type, variant + k, depth + 1) for k in range(2)]
            if field.is_repeated:
                getattr(msg, field.name).extend(values)
            else:
                getattr(msg, field.name).CopyFrom(values[0])
        elif field.is_repeated:
            getattr(msg, field.name).extend([_scalar(field, seed), _scalar(field, seed + 1)])
        else:
            setattr(msg, field.name, _scalar(field, seed))
    return msg


def _timestamp(seed: int, k: int) -> Message:
    return Timestamp(seconds=1_700_000_000 + seed + k, nanos=123_456_789)


def _duration(seed: int, k: int) -> Message:
    return Duration(seconds=9_125_115 + seed + k, nanos=360_000_000)
