"""The fast JSON paths give json_format's bytes and ParseDict's messages, without HTTP.

Every message type of ``gitpod.v1`` (and a test type with the field kinds gitpod.v1 does not
use: 64-bit integers, floats, maps, well-known types), populated with edge values, encodes to
the same bytes as ``json.dumps(json_format.MessageToDict(m))`` and decodes to the same message
as the json_format path; hostile input gets the same error as before.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pytest
from connectrpc.errors import ConnectError
from google.protobuf import (  # the well-known types the test type uses, loaded
    any_pb2,  # noqa: F401
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,  # noqa: F401
    empty_pb2,  # noqa: F401
    field_mask_pb2,  # noqa: F401
    json_format,
    message_factory,
    struct_pb2,  # noqa: F401
    text_format,
    timestamp_pb2,  # noqa: F401
    wrappers_pb2,  # noqa: F401
)
from hypothesis import given, settings
from hypothesis import strategies as st

from runnerkit.server import codecs
from runnerkit.server.codecs import JSONCodec
from runnerkit.server.proto_json import message_to_dict
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

    from google.protobuf.descriptor import Descriptor
    from google.protobuf.message import Message

F = descriptor_pb2.FieldDescriptorProto
MODULES = (
    agent_pb2,
    gateway_pb2,
    identity_pb2,
    pagination_pb2,
    runner_configuration_pb2,
    runner_pb2,
)

_KINDS_PROTO = """
name: "runnerkit_test/kinds.proto" package: "rktest" syntax: "proto3"
dependency: "google/protobuf/timestamp.proto" dependency: "google/protobuf/duration.proto"
dependency: "google/protobuf/struct.proto" dependency: "google/protobuf/wrappers.proto"
dependency: "google/protobuf/any.proto" dependency: "google/protobuf/field_mask.proto"
dependency: "google/protobuf/empty.proto"
enum_type { name: "Colour" value { name: "COLOUR_UNSPECIFIED" number: 0 }
            value { name: "COLOUR_RED" number: 1 } value { name: "COLOUR_MINUS" number: -5 } }
message_type {
  name: "Kinds"
  field { name: "i64" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 json_name: "i64" }
  field { name: "u64" number: 2 label: LABEL_OPTIONAL type: TYPE_UINT64 json_name: "u64" }
  field { name: "s64" number: 3 label: LABEL_OPTIONAL type: TYPE_SINT64 json_name: "s64" }
  field { name: "f64" number: 4 label: LABEL_OPTIONAL type: TYPE_FIXED64 json_name: "f64" }
  field { name: "fl" number: 5 label: LABEL_OPTIONAL type: TYPE_FLOAT json_name: "fl" }
  field { name: "db" number: 6 label: LABEL_OPTIONAL type: TYPE_DOUBLE json_name: "db" }
  field { name: "rep_db" number: 7 label: LABEL_REPEATED type: TYPE_DOUBLE json_name: "repDb" }
  field { name: "rep_fl" number: 8 label: LABEL_REPEATED type: TYPE_FLOAT json_name: "repFl" }
  field { name: "rep_i64" number: 9 label: LABEL_REPEATED type: TYPE_INT64 json_name: "repI64" }
  field { name: "by" number: 10 label: LABEL_OPTIONAL type: TYPE_BYTES json_name: "by" }
  field { name: "colour" number: 11 label: LABEL_OPTIONAL type: TYPE_ENUM
          type_name: ".rktest.Colour" json_name: "colour" }
  field { name: "str_map" number: 12 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".rktest.Kinds.StrMapEntry" json_name: "strMap" }
  field { name: "bool_map" number: 13 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".rktest.Kinds.BoolMapEntry" json_name: "boolMap" }
  field { name: "int_map" number: 14 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".rktest.Kinds.IntMapEntry" json_name: "intMap" }
  field { name: "ts" number: 15 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Timestamp" json_name: "ts" }
  field { name: "dur" number: 16 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Duration" json_name: "dur" }
  field { name: "st" number: 17 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Struct" json_name: "st" }
  field { name: "val" number: 18 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Value" json_name: "val" }
  field { name: "lv" number: 19 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.ListValue" json_name: "lv" }
  field { name: "wrap" number: 20 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Int64Value" json_name: "wrap" }
  field { name: "any" number: 21 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Any" json_name: "any" }
  field { name: "mask" number: 22 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.FieldMask" json_name: "mask" }
  field { name: "empty" number: 23 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Empty" json_name: "empty" }
  field { name: "child" number: 24 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".rktest.Kinds" json_name: "child" }
  field { name: "rep_ts" number: 25 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".google.protobuf.Timestamp" json_name: "repTs" }
  field { name: "msg_map" number: 26 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".rktest.Kinds.MsgMapEntry" json_name: "msgMap" }
  field { name: "null" number: 27 label: LABEL_OPTIONAL type: TYPE_ENUM
          type_name: ".google.protobuf.NullValue" json_name: "null" }
  nested_type { name: "StrMapEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "key" }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "value" } }
  nested_type { name: "BoolMapEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_BOOL json_name: "key" }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_INT64 json_name: "value" } }
  nested_type { name: "IntMapEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 json_name: "key" }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM
            type_name: ".rktest.Colour" json_name: "value" } }
  nested_type { name: "MsgMapEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "key" }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
            type_name: ".google.protobuf.Timestamp" json_name: "value" } }
}
"""


def _kinds_class() -> type[Message]:
    """A message type with the field kinds gitpod.v1 does not use (in the default pool)."""
    pool = descriptor_pool.Default()
    try:
        descriptor = pool.FindMessageTypeByName("rktest.Kinds")
    except KeyError:
        file = text_format.Parse(_KINDS_PROTO, descriptor_pb2.FileDescriptorProto())
        added = pool.AddSerializedFile(file.SerializeToString())
        descriptor = added.message_types_by_name["Kinds"]
    return message_factory.GetMessageClass(descriptor)


def _all_types() -> Iterator[Descriptor]:
    def walk(descriptor: Descriptor) -> Iterator[Descriptor]:
        if not descriptor.GetOptions().map_entry:
            yield descriptor
        for nested in descriptor.nested_types:
            yield from walk(nested)

    for module in MODULES:
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            yield from walk(descriptor)


TYPES = [*_all_types(), _kinds_class().DESCRIPTOR]
STRINGS = ["", "x", "ünïcødé ☃ \U0001f600", 'q"b\\s\n\t\x01\u2028/</script>', "\x7f"]
INTS = {
    F.TYPE_INT32: [0, -1, 2**31 - 1, -(2**31)],
    F.TYPE_SINT32: [0, -(2**31)],
    F.TYPE_SFIXED32: [0, 2**31 - 1],
    F.TYPE_UINT32: [0, 2**32 - 1],
    F.TYPE_FIXED32: [0, 2**32 - 1],
    F.TYPE_INT64: [0, 2**63 - 1, -(2**63)],
    F.TYPE_SINT64: [0, -(2**63)],
    F.TYPE_SFIXED64: [0, 2**63 - 1],
    F.TYPE_UINT64: [0, 2**64 - 1],
    F.TYPE_FIXED64: [0, 2**64 - 1],
}
FLOATS = [0.0, 0.1, -2.5, 1e300, math.inf, -math.inf, math.nan, 3.4028234663852886e38]
NANOS = [0, 1000, 1000000, 123456789, 1, 999999999]
SECONDS = [0, 1735689600, -62135596800, 253402300799, -1]


def _value(field: Any, variant: int) -> object:
    if field.type == F.TYPE_STRING:
        return STRINGS[variant % len(STRINGS)]
    if field.type == F.TYPE_BYTES:
        return [b"", b"\x00\xff\xfe", "ü".encode()][variant % 3]
    if field.type == F.TYPE_BOOL:
        return variant % 2 == 0
    if field.type in (F.TYPE_FLOAT, F.TYPE_DOUBLE):
        return FLOATS[variant % len(FLOATS)]
    if field.type == F.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values] + [12345, -7]
        return numbers[variant % len(numbers)]
    values = INTS[field.type]
    return values[variant % len(values)]


def _populate(message: Any, variant: int, depth: int = 0) -> None:  # noqa: PLR0912
    """Set every field (maps and lists with two entries); ``variant`` picks the edge values."""
    descriptor = message.DESCRIPTOR
    name = descriptor.full_name
    if name == "google.protobuf.Timestamp":
        message.seconds = SECONDS[variant % len(SECONDS)]
        message.nanos = NANOS[variant % len(NANOS)]
        return
    if name == "google.protobuf.Duration":
        message.seconds = [0, 5, -3][variant % 3]
        message.nanos = [0, 10_000_000, -1000][variant % 3]
        return
    if name in ("google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"):
        structure: Any = {"a": [1.5, "s", None, True, {"b": []}]}
        json_format.ParseDict(structure["a"] if name.endswith("ListValue") else structure, message)
        return
    if name == "google.protobuf.Any":
        message.Pack(pagination_pb2.PaginationRequest(token="t", page_size=3))
        return
    if name == "google.protobuf.FieldMask":
        message.paths.extend(["a_b", "c"])
        return
    fields = list(descriptor.fields)
    if variant % 2:
        fields.reverse()  # the other members of each oneof
    for field in fields:
        entry: Any = field.message_type
        if entry is not None:
            if depth > 2 and field.message_type.full_name == name:
                continue
            if field.message_type.GetOptions().map_entry:
                key_field = entry.fields_by_name["key"]
                value_field = entry.fields_by_name["value"]
                container = getattr(message, field.name)
                for i in range(2):
                    key = _value(key_field, variant + i)
                    if value_field.message_type is not None:
                        _populate(container[key], variant + i, depth + 1)
                    else:
                        container[key] = _value(value_field, variant + i)
            elif field.is_repeated:
                for i in range(2):
                    _populate(getattr(message, field.name).add(), variant + i, depth + 1)
            else:
                getattr(message, field.name).SetInParent()
                _populate(getattr(message, field.name), variant, depth + 1)
        elif field.is_repeated:
            getattr(message, field.name).extend(_value(field, variant + i) for i in range(2))
        else:
            setattr(message, field.name, _value(field, variant))


def _reference_encode(message: Message) -> bytes:
    return json.dumps(
        json_format.MessageToDict(message), separators=(",", ":"), ensure_ascii=False
    ).encode()


def _reference_decode(data: bytes, message_class: type[Message]) -> Message:
    """The json_format path of the codec (fast path off)."""
    original = codecs.fill  # type: ignore[attr-defined]
    codecs.fill = lambda _obj, _message: False  # type: ignore[attr-defined,assignment]
    try:
        return JSONCodec().decode(data, message_class)
    finally:
        codecs.fill = original  # type: ignore[attr-defined]


def _populated(descriptor: Any) -> Iterator[Message]:
    cls = message_factory.GetMessageClass(descriptor)
    yield cls()
    for variant in range(8):
        message = cls()
        _populate(message, variant)
        yield message


@pytest.mark.parametrize("descriptor", TYPES, ids=lambda d: d.full_name)
def test_encode_is_json_format_byte_for_byte(descriptor: Descriptor) -> None:
    for message in _populated(descriptor):
        assert JSONCodec().encode(message) == _reference_encode(message)


@pytest.mark.parametrize("descriptor", TYPES, ids=lambda d: d.full_name)
def test_decode_is_the_json_format_message(descriptor: Descriptor) -> None:
    cls = message_factory.GetMessageClass(descriptor)
    for message in _populated(descriptor):
        for keys in ("json", "proto"):
            try:
                obj = json_format.MessageToDict(
                    message, preserving_proto_field_name=keys == "proto"
                )
            except json_format.SerializeToJsonError:
                continue
            data = json.dumps(obj, ensure_ascii=False).encode()
            assert _same_outcome(data, cls)


def _same_outcome(data: bytes, cls: type[Message]) -> bool:
    """Both paths give the same message, or the same error."""
    try:
        expected: object = _reference_decode(data, cls)
    except ConnectError as exc:
        expected = (exc.code, exc.message)
    try:
        got: object = JSONCodec().decode(data, cls)
    except ConnectError as exc:
        got = (exc.code, exc.message)
    if isinstance(expected, tuple) or isinstance(got, tuple):
        return got == expected
    assert isinstance(got, type(expected))
    got_message: Any = got
    expected_message: Any = expected
    return bool(
        got_message.SerializeToString(deterministic=True)
        == expected_message.SerializeToString(deterministic=True)
    )


def test_unknown_enum_numbers_and_invalid_timestamps_are_json_formats() -> None:
    runner = runner_pb2.Runner(runner_id="r")
    runner.status.phase = -3  # type: ignore[assignment]
    assert JSONCodec().encode(runner) == _reference_encode(runner)
    runner.created_at.seconds = 253402300800  # past year 9999: json_format refuses it
    with pytest.raises(json_format.SerializeToJsonError):
        _reference_encode(runner)
    with pytest.raises(json_format.SerializeToJsonError):
        JSONCodec().encode(runner)
    nan = _kinds_class()()
    json_format.ParseDict({"val": 1.0}, nan)
    nan.val.number_value = math.nan  # type: ignore[attr-defined]
    with pytest.raises(json_format.SerializeToJsonError) as fast:
        message_to_dict(nan)
    with pytest.raises(json_format.SerializeToJsonError) as slow:
        json_format.MessageToDict(nan)
    assert str(fast.value) == str(slow.value)


PLAIN_CASES = [
    b"{}",
    b'{"runnerId":"r1"}',
    b'{"runner_id":"r1"}',
    b'{"runnerId":"a","runner_id":"b"}',
    b'{"runnerId":null}',
    b'{"runnerId":5}',
    b'{"runnerId":"\\u0000"}',
    b'{"pagination":{"pageSize":25,"token":"t"}}',
    b'{"pagination":{"pageSize":"25"}}',
    b'{"pagination":{"pageSize":25.0}}',
    b'{"pagination":{"pageSize":2.5}}',
    b'{"pagination":{"pageSize":true}}',
    b'{"pagination":{"pageSize":4294967296}}',
    b'{"pagination":{"pageSize":-2147483649}}',
    b'{"pagination":[]}',
    b'{"pagination":{}}',
    b'{"filter":{"creatorIds":["a","b"],"kinds":["RUNNER_KIND_REMOTE"]}}',
    b'{"filter":{"kinds":["NOPE"]}}',
    b'{"filter":{"kinds":[1, "RUNNER_KIND_LOCAL"]}}',
    b'{"filter":{"creatorIds":"a"}}',
    b'{"filter":{"creatorIds":[null]}}',
    b'{"unknownField":1,"runnerId":"r"}',
    b'{"name":"n","provider":"RUNNER_PROVIDER_AWS_EC2","spec":{"desiredPhase":"NOPE"}}',
]
REQUESTS = [
    runner_pb2.GetRunnerRequest,
    runner_pb2.ListRunnersRequest,
    runner_pb2.CreateRunnerRequest,
    runner_pb2.UpdateRunnerRequest,
]


@pytest.mark.parametrize("data", PLAIN_CASES)
@pytest.mark.parametrize("cls", REQUESTS, ids=lambda c: c.DESCRIPTOR.name)
def test_plain_and_not_so_plain_input_decodes_as_before(data: bytes, cls: type[Message]) -> None:
    assert _same_outcome(data, cls)


def _json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**65), max_value=2**65),
        st.floats(allow_nan=False),
        st.text(max_size=6),
        st.sampled_from(["RUNNER_KIND_LOCAL", "RUNNER_PHASE_ACTIVE", "1", "25"]),
    )


def _keys(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    names = [f.json_name for f in descriptor.fields] + [f.name for f in descriptor.fields]
    values: list[st.SearchStrategy[Any]] = [_json_scalars(), st.lists(_json_scalars(), max_size=3)]
    if depth < 2:
        for field in descriptor.fields:
            if field.message_type is not None and not field.message_type.GetOptions().map_entry:
                values.append(_keys(field.message_type, depth + 1))
    return st.dictionaries(st.sampled_from([*names, "other"]), st.one_of(*values), max_size=5)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_json_object_decodes_as_before(data: st.DataObject) -> None:
    cls: Any = data.draw(st.sampled_from(REQUESTS))
    obj = data.draw(_keys(cls.DESCRIPTOR))
    assert _same_outcome(json.dumps(obj).encode(), cls)


def test_gitpod_types_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """No gitpod.v1 type needs json_format (only Duration is converted by it)."""
    used: list[str] = []
    original = json_format.MessageToDict

    def spy(message: Message, **options: Any) -> Any:
        used.append(message.DESCRIPTOR.full_name)
        return original(message, **options)

    monkeypatch.setattr(json_format, "MessageToDict", spy)
    for descriptor in TYPES[:-1]:
        for message in _populated(descriptor):
            message_to_dict(message)
    assert set(used) <= {"google.protobuf.Duration"}


_PROTO2 = """
name: "runnerkit_test/closed.proto" package: "rktest2" syntax: "proto2"
enum_type { name: "Closed" value { name: "CLOSED_A" number: 1 } value { name: "CLOSED_B" number: 2 } }
message_type {
  name: "Old"
  field { name: "closed" number: 1 label: LABEL_OPTIONAL type: TYPE_ENUM
          type_name: ".rktest2.Closed" json_name: "closed" }
  field { name: "closeds" number: 2 label: LABEL_REPEATED type: TYPE_ENUM
          type_name: ".rktest2.Closed" json_name: "closeds" }
  field { name: "count" number: 3 label: LABEL_OPTIONAL type: TYPE_INT64 json_name: "count"
          default_value: "7" }
}
"""


def test_closed_enums_and_proto2_presence():
    pool = descriptor_pool.Default()
    try:
        descriptor = pool.FindMessageTypeByName("rktest2.Old")
    except KeyError:
        file = text_format.Parse(_PROTO2, descriptor_pb2.FileDescriptorProto())
        descriptor = pool.AddSerializedFile(file.SerializeToString()).message_types_by_name["Old"]
    cls: Any = message_factory.GetMessageClass(descriptor)
    for message in (cls(), cls(closed=2, closeds=[1, 2]), cls(count=0), cls(count=7, closed=1)):
        assert JSONCodec().encode(message) == _reference_encode(message)
        assert _same_outcome(_reference_encode(message), cls)
    unknown = cls.FromString(b"\x08\x09")  # closed enum: 9 goes to the unknown fields
    assert JSONCodec().encode(unknown) == _reference_encode(unknown) == b"{}"
