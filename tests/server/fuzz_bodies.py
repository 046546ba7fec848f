"""Hypothesis strategies for hostile request bodies of any RPC (used by ``test_fuzz.py``).

``RPCS`` lists every RPC of both services (path, request and response classes, whether Connect
GET is allowed). ``json_body(rpc)`` and ``proto_body(rpc)`` draw bodies that are mostly
shaped like the request — field names from the schema, values of the right type or not,
hostile strings (NUL, unpaired surrogates, huge, control characters), out-of-range numbers,
unknown enum values, deep nesting — plus mutations (truncated, flipped, padded) and plain
junk, so that the fuzzer reaches the codecs, the interceptors and the services alike.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import strategies as st

from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2

if TYPE_CHECKING:
    from google.protobuf.message import Message

F = FieldDescriptor
_NO_SIDE_EFFECTS = 1  # MethodOptions.NO_SIDE_EFFECTS


@dataclass(frozen=True)
class RPC:
    """One RPC: its URL path, message classes and whether Connect GET may call it."""

    service: str
    name: str
    request: type[Message]
    response: type[Message]
    get_allowed: bool

    @property
    def path(self) -> str:
        return f"/gitpod.v1.{self.service}/{self.name}"

    @property
    def paginated(self) -> bool:
        return "pagination" in self.request.DESCRIPTOR.fields_by_name


def _rpcs() -> list[RPC]:
    rpcs = []
    for module in (runner_pb2, runner_configuration_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                rpcs.append(
                    RPC(
                        service.name,
                        method.name,
                        message_factory.GetMessageClass(method.input_type),
                        message_factory.GetMessageClass(method.output_type),
                        method.GetOptions().idempotency_level == _NO_SIDE_EFFECTS,
                    )
                )
    return rpcs


RPCS = _rpcs()

RUNNER_ID = "runner-id-placeholder-0000000000000000"[:36]  # an existing runner's, when sent
ID_TEXT = st.one_of(st.just(RUNNER_ID), st.uuids().map(str), st.sampled_from(["", "x", "\x00"]))
SPECIAL_TEXT = [
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfff",
    "\ud83d\ude00",
    "\U0001f600",
    "\u202e\u0007\x1b[31m",
    "x" * 300,
    "é" * 70,
    str(uuid.uuid4()),
    "00000000-0000-0000-0000-000000000000",
    "github.com",
    "gitlab.com",
    "https://github.com/alice/hello",
    "https://github.com/alice/hello/pull/1",
    "https://gitlab.com/a/b/-/merge_requests/2",
    "git@github.com:a/b.git",
    "http://[::1",
    "%00%ff",
    "../../etc/passwd",
    "' OR 1=1 --",
    "RUNNER_PROVIDER_GCP",
    "RUNNER_KIND_LOCAL_CONFIGURATION",
    "2025-01-01T00:00:00",
    "9999-99-99T99:99:99Z",
    "1e999",
    "NaN",
    "true",
    "{}",
]
HOSTILE_TEXT = st.sampled_from(["\ud800", "a\x00b", "x\udfff", "\x00"])
TEXT = st.one_of(st.sampled_from(SPECIAL_TEXT), HOSTILE_TEXT, st.text(max_size=16))
SAFE_TEXT = TEXT.filter(lambda s: not any("\ud800" <= c <= "\udfff" for c in s))
BIG_INTS = st.sampled_from(
    [0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63, 2**64, -(2**64)]
)
NUMBERS = st.one_of(
    BIG_INTS,
    st.integers(min_value=-1000, max_value=1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["12", "-3", "1e3", "0x10", "", "Infinity"]),
)
WRONG = st.one_of(
    HOSTILE_TEXT,
    st.none(),
    st.booleans(),
    NUMBERS,
    TEXT,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(TEXT, st.integers(), max_size=2),
)
JSON_SNIPPETS = [
    b"",
    b"{",
    b"}",
    b"[]",
    b"null",
    b'"x"',
    b"1",
    b'{"a":',
    b'{"a":1,}',
    b"{'a':1}",
    b"\xef\xbb\xbf{}",
    b"\xff\xfe{\x00}\x00",
    b'{"name":"\xed\xa0\x80"}',
    b'{"name":"\xc3"}',
    b'{"\xff":1}',
    b"NaN",
    b'{"pagination":{"pageSize":1e999}}',
    b'{"pagination":' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b'{"a":"' + b"\\u0000" * 100 + b'"}',
]
PROTO_SNIPPETS = [
    b"\x08" + b"\xff" * 11,  # varint too long
    b"\x0a\xff\xff\xff\xff\x0f",  # length beyond the body
    b"\x0a\x02\xc3\x28",  # invalid UTF-8 in field 1 when it is a string
    b"\x0b",  # start group
    b"\x0c",  # end group without start
    b"\x07",  # wire type 7
    b"\x00",  # field number 0
    b"\xfa\xff\xff\xff\x0f\x00",  # field number at the limit
    b"\x12\x80\x80\x80\x80\x10",  # length varint overflowing 32 bits
    b"\x1a" + b"\x03\x1a\x01" * 200,  # nesting
]

_INT_RANGES = {
    F.TYPE_INT32: (-(2**31), 2**31 - 1),
    F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1),
    F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_INT64: (-(2**63), 2**63 - 1),
    F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1),
    F.TYPE_FIXED64: (0, 2**64 - 1),
}
_TIMESTAMPS = st.one_of(
    st.datetimes().map(lambda d: d.isoformat() + ["Z", "+02:00", ""][d.microsecond % 3]),
    st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00+00:00"]),
)


_MAX_DEPTH = 3


def _scalar(field: FieldDescriptor, *, valid: bool) -> st.SearchStrategy[Any]:  # noqa: PLR0911
    kind = field.type
    if kind == F.TYPE_STRING and field.name.endswith("_id"):
        return ID_TEXT if valid else st.one_of(ID_TEXT, TEXT)
    if kind == F.TYPE_STRING:
        return SAFE_TEXT if valid else TEXT
    if kind == F.TYPE_BYTES:
        return st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode())
    if kind == F.TYPE_BOOL:
        return st.booleans()
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        ints = st.one_of(st.integers(min_value=low, max_value=high), st.sampled_from([low, high]))
        return ints if valid else st.one_of(ints, BIG_INTS)
    if kind in (F.TYPE_FLOAT, F.TYPE_DOUBLE):
        return st.floats(allow_nan=not valid, allow_infinity=not valid, width=32)
    if kind == F.TYPE_ENUM:
        assert field.enum_type is not None
        names = [v.name for v in field.enum_type.values]
        numbers = st.integers(min_value=-5, max_value=40)
        return (
            st.one_of(st.sampled_from(names), numbers)
            if valid
            else st.one_of(st.sampled_from(names), numbers, TEXT, BIG_INTS)
        )
    msg = f"no strategy for field type {kind}"
    raise AssertionError(msg)


def _value(field: FieldDescriptor, depth: int, *, valid: bool) -> st.SearchStrategy[Any]:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        key = _scalar(message.fields_by_name["key"], valid=valid)
        value = _value(message.fields_by_name["value"], depth + 1, valid=valid)
        return st.dictionaries(key.map(str), value, max_size=3)
    if message is None:
        single = _scalar(field, valid=valid)
    elif message.full_name == "google.protobuf.Timestamp":
        single = _TIMESTAMPS if valid else st.one_of(_TIMESTAMPS, TEXT, NUMBERS)
    elif message.full_name == "google.protobuf.Duration":
        durations = st.sampled_from(["1s", "0.5s", "-1s", "315576000000s", "3600s"])
        single = durations if valid else st.one_of(durations, TEXT)
    elif depth >= _MAX_DEPTH:
        single = st.just({})
    else:
        single = message_dict(message, depth + 1, valid=valid)
    if field.is_repeated:
        listed = st.lists(single, max_size=3)
        return listed if valid else st.one_of(listed, single)
    return single


def message_dict(
    descriptor: Any, depth: int = 0, *, valid: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    """JSON-ready dicts shaped like ``descriptor``: some fields, right or (unless ``valid``)
    wrong values, names in JSON or proto spelling, now and then an unknown key."""
    fields = list(descriptor.fields)
    if not fields:
        return st.just({})
    entries = []
    for field in fields:
        value = _value(field, depth, valid=valid)
        if not valid:
            value = st.one_of(value, WRONG)
        names = [field.json_name] if valid else [field.json_name, field.name]
        entries.append(st.tuples(st.sampled_from(names), value))
    pairs = st.lists(st.one_of(*entries), max_size=min(len(fields), 5))
    if not valid:
        pairs = st.lists(st.one_of(*entries, st.tuples(TEXT, WRONG)), max_size=min(len(fields), 5))
    return pairs.map(dict)


def _dumps(obj: object, ascii_only: bool) -> bytes:
    # Unpaired surrogates: escaped (\\ud800) with ascii_only, else raw CESU bytes (not UTF-8).
    return json.dumps(obj, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def _mutated(draw: st.DrawFn, body: bytes) -> bytes:
    how = draw(st.sampled_from(["as-is", "as-is", "truncate", "flip", "insert", "append"]))
    if how == "as-is" or not body:
        return body
    at = draw(st.integers(min_value=0, max_value=len(body) - 1))
    if how == "truncate":
        return body[:at]
    junk = draw(st.binary(min_size=1, max_size=4))
    if how == "flip":
        return body[:at] + bytes([body[at] ^ junk[0]]) + body[at + 1 :]
    if how == "insert":
        return body[:at] + junk + body[at:]
    return body + junk


def json_body(rpc: RPC) -> st.SearchStrategy[bytes]:
    """JSON request bodies for ``rpc``: mostly schema-shaped, some mutated, some junk."""
    shaped = st.builds(_dumps, message_dict(rpc.request.DESCRIPTOR), st.booleans())
    return st.one_of(
        shaped,
        shaped.flatmap(_mutated),
        st.sampled_from(JSON_SNIPPETS),
        st.binary(max_size=48),
    )


def _serialized(obj: dict[str, Any], message_class: type[Message]) -> bytes:
    message = message_class()
    try:
        json_format.ParseDict(obj, message, ignore_unknown_fields=True)
    except Exception:  # noqa: BLE001 - a strategy drew something protobuf will not take
        message = message_class()
    return message.SerializeToString()


def proto_body(rpc: RPC) -> st.SearchStrategy[bytes]:
    """Binary request bodies for ``rpc``: valid messages (hostile values), mutated, junk."""
    valid = st.builds(
        _serialized, message_dict(rpc.request.DESCRIPTOR, valid=True), st.just(rpc.request)
    )
    return st.one_of(
        valid,
        valid.flatmap(_mutated),
        st.sampled_from(PROTO_SNIPPETS),
        st.binary(max_size=48),
    )
