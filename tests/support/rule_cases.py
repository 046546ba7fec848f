"""The real API's validation rules (tests/data/gitpod_v1_validate.tsv) as boundary test cases.

``ROWS`` are the table's rules; ``table_rules(row)`` is a row as a ``buf.validate.FieldRules``
in today's names. ``boundary_cases(rules)`` gives, per rule, the values just outside its bound
(rejected) and at it (accepted). ``request_targets(owner)`` are the RPCs whose request reaches
the rule's message, with the path to it; ``build(desc, path, field, value)`` makes a message
that breaks nothing but, possibly, the rule under test.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from google.protobuf import descriptor_pb2, text_format
from google.protobuf.message_factory import GetMessageClass

from runnerkit_proto.buf.validate import validate_pb2
from tests.schema.descriptors import methods

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
    from google.protobuf.message import Message

TABLE = Path(__file__).resolve().parent.parent / "data" / "gitpod_v1_validate.tsv"
FDP = descriptor_pb2.FieldDescriptorProto
IGNORE_ALWAYS = validate_pb2.IGNORE_ALWAYS
IGNORE_ZERO = validate_pb2.IGNORE_IF_ZERO_VALUE
A_UUID = "0b6a4a62-3b7c-4b8e-9f6d-2f1f6a9c1e01"
A_URI = "https://github.com/gitpod-io/gitpod"


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    kind: str  # message | field
    owner: str  # message full name
    name: str  # field name, "-" for a message rule
    rule: str  # buf.validate text format, the real schema's (older) names

    @property
    def id(self) -> str:
        """A readable test id."""
        return f"{self.owner.removeprefix('gitpod.v1.')}.{self.name}"


def _rows() -> list[Row]:
    out = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            out.append(Row(*line.split("\t")))
    return out


ROWS = _rows()
FIELD_ROWS = [r for r in ROWS if r.kind == "field"]
DISABLED = {r.owner for r in ROWS if r.kind == "message" and "disabled: true" in r.rule}

_RENAMED = {
    "IGNORE_IF_UNPOPULATED": "IGNORE_IF_ZERO_VALUE",
    "IGNORE_IF_DEFAULT_VALUE": "IGNORE_IF_ZERO_VALUE",
}


def table_rules(row: Row) -> validate_pb2.FieldRules:
    """The row's rule as a FieldRules message, with today's enum names."""
    text = row.rule
    for old, new in _RENAMED.items():
        text = text.replace(old, new)
    return text_format.Parse(text, validate_pb2.FieldRules())


def schema_rules(field: Any) -> validate_pb2.FieldRules:  # a FieldDescriptor
    """The FieldRules our schema declares on ``field`` (empty when none)."""
    options = field.GetOptions()
    if not options.HasExtension(validate_pb2.field):
        return validate_pb2.FieldRules()
    rules: validate_pb2.FieldRules = options.Extensions[validate_pb2.field]
    return rules


@cache
def message_desc(full_name: str) -> Descriptor:
    """The descriptor of a gitpod.v1 message by full name."""
    from google.protobuf import descriptor_pool  # noqa: PLC0415

    return descriptor_pool.Default().FindMessageTypeByName(full_name)


# --- reaching a message from the requests ------------------------------------------------


def _skipped(field: FieldDescriptor) -> bool:
    return schema_rules(field).ignore == IGNORE_ALWAYS


def request_targets(owner: str) -> list[tuple[str, MethodDescriptor, tuple[str, ...]]]:
    """``(Service/Method, method, path)`` of every RPC whose request validation reaches ``owner``.

    ``path`` is the field names from the request to the message (empty for the request
    itself); fields the schema skips (IGNORE_ALWAYS) are not followed.
    """
    out = []
    for key, method in sorted(methods().items()):
        queue: deque[tuple[Descriptor, tuple[str, ...]]] = deque([(method.input_type, ())])
        seen = set()
        while queue:
            desc, path = queue.popleft()
            if desc.full_name == owner:
                out.append((key, method, path))
                break
            if desc.full_name in seen:
                continue
            seen.add(desc.full_name)
            for field in desc.fields:
                if field.message_type is not None and not _skipped(field):
                    if field.message_type.GetOptions().map_entry:
                        continue
                    queue.append((field.message_type, (*path, field.name)))
    return out


# --- building messages ---------------------------------------------------------------------


def _valid_value(field: Any, rules: validate_pb2.FieldRules) -> Any:  # noqa: PLR0911
    kind = rules.WhichOneof("type")
    if kind == "string":
        s = rules.string
        if s.uuid:
            return A_UUID
        if s.uri:
            return A_URI
        return "a" * max(s.min_len, 3) if s.min_len or rules.required else None
    if kind == "int32":
        low = rules.int32.gte if rules.int32.HasField("gte") else 0
        return low if low else None
    if kind == "bytes" and rules.bytes.HasField("len"):
        return b"\1" * rules.bytes.len
    if rules.required and field.type == FDP.TYPE_STRING:
        return "abc"
    return None


def fill(message: Message) -> Message:
    """Give every rule-carrying field of ``message`` a valid value (in place); returns it."""
    for field in message.DESCRIPTOR.fields:
        rules = schema_rules(field)
        if rules.ignore in (IGNORE_ALWAYS, IGNORE_ZERO) and not rules.required:
            continue
        if field.message_type is not None and not field.is_repeated:
            if rules.required:
                fill(getattr(message, field.name))
            continue
        if field.is_repeated:
            continue
        value = _valid_value(field, rules)
        if value is not None:
            setattr(message, field.name, value)
    return message


def set_value(message: Message, field_name: str, value: Any) -> None:
    """Set ``field_name`` to ``value``; for message fields, True sets it and None clears it."""
    field = message.DESCRIPTOR.fields_by_name[field_name]
    if field.is_repeated:
        container = getattr(message, field_name)
        del container[:]
        container.extend(value)
    elif field.message_type is not None:
        if value is None:
            message.ClearField(field_name)
        else:
            fill(getattr(message, field_name))
            getattr(message, field_name).SetInParent()
    else:
        setattr(message, field_name, value)


def build(desc: Descriptor, path: tuple[str, ...], field_name: str, value: Any) -> Message:
    """A valid ``desc`` message whose field at ``path``.``field_name`` is ``value``."""
    root = fill(GetMessageClass(desc)())
    node = root
    for name in path:
        node = getattr(node, name)
        fill(node)
        node.SetInParent()
    set_value(node, field_name, value)
    return root


# --- boundary values -------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One value for the field under test and whether the rules accept it."""

    label: str
    value: Any
    ok: bool


def _item(rules: validate_pb2.FieldRules, field: FieldDescriptor) -> Any:
    if rules.repeated.items.string.uuid:
        return A_UUID
    if field.enum_type is not None:
        return field.enum_type.values[-1].number
    return "scope"


def _string_cases(s: validate_pb2.StringRules, zero_ok: bool) -> list[Case]:
    cases: list[Case] = []
    if s.uuid:
        cases += [Case("not a UUID", "not-a-uuid", False), Case("a UUID", A_UUID, True)]
        cases.append(Case("empty", "", zero_ok))
    if s.uri:
        cases += [Case("not a URI", "github.com/org/repo", False), Case("a URI", A_URI, True)]
    if s.HasField("min_len"):  # characters, not bytes: "é" is two bytes
        n = s.min_len
        cases += [Case(f"{n - 1} chars", "é" * (n - 1), False), Case(f"{n} chars", "é" * n, True)]
    if s.HasField("max_len"):
        m = s.max_len
        cases += [Case(f"{m + 1} chars", "é" * (m + 1), False), Case(f"{m} chars", "é" * m, True)]
    return cases


def _int32_cases(r: validate_pb2.Int32Rules, zero_ok: bool) -> list[Case]:
    cases: list[Case] = []
    if r.HasField("lte"):
        cases += [Case(f"{r.lte + 1}", r.lte + 1, False), Case(f"{r.lte}", r.lte, True)]
    if r.HasField("gte"):
        below_ok = zero_ok and r.gte - 1 == 0
        cases += [Case(f"{r.gte - 1}", r.gte - 1, below_ok), Case(f"{r.gte}", r.gte, True)]
        if zero_ok:
            cases.append(Case("-1", -1, False))
    return cases


def _repeated_cases(rules: validate_pb2.FieldRules, field: FieldDescriptor) -> list[Case]:
    r = rules.repeated
    item = _item(rules, field)
    cases: list[Case] = []
    if r.HasField("max_items"):
        k = r.max_items
        cases += [
            Case(f"{k + 1} items", [item] * (k + 1), False),
            Case(f"{k} items", [item] * k, True),
        ]
    if r.items.string.uuid:
        cases.append(Case("an item not a UUID", ["not-a-uuid"], False))
    if r.items.enum.defined_only:
        assert field.enum_type is not None
        top = max(v.number for v in field.enum_type.values)
        cases.append(Case("an undefined item", [top + 1], False))
    return cases


def boundary_cases(field: FieldDescriptor, rules: validate_pb2.FieldRules) -> list[Case]:
    """Values at and just past each bound of ``rules`` (the table's rule for ``field``)."""
    kind = rules.WhichOneof("type")
    zero_ok = rules.ignore == IGNORE_ZERO
    cases: list[Case] = []
    if kind == "string":
        cases += _string_cases(rules.string, zero_ok)
    elif kind == "int32":
        cases += _int32_cases(rules.int32, zero_ok)
    elif kind == "enum":
        assert field.enum_type is not None
        top = max(v.number for v in field.enum_type.values)
        cases += [Case("undefined number", top + 1, False), Case("last defined", top, True)]
    elif kind == "repeated":
        cases += _repeated_cases(rules, field)
    elif kind == "bytes":
        n = rules.bytes.len
        cases += [
            Case(f"{n - 1} bytes", b"\1" * (n - 1), False),
            Case(f"{n} bytes", b"\1" * n, True),
            Case(f"{n + 1} bytes", b"\1" * (n + 1), False),
        ]
    if rules.required:
        if field.message_type is not None:
            cases += [Case("unset", None, False), Case("set", True, True)]
        else:
            cases += [Case("empty", "", False), Case("set", "abc", True)]
    elif kind is None and field.message_type is not None and zero_ok:
        cases.append(Case("unset", None, True))
    if not cases:
        raise AssertionError(f"no boundary cases for {field.full_name}: {rules}")
    return cases
