"""Fast path of protobuf JSON decoding, for plain input: the same message as ``ParseDict``.

:func:`fill` sets a fresh message from a decoded JSON object when every key names a field
(its lowerCamelCase or proto name) and every value is plain: a string for a string field, a
boolean for a bool field, an in-range integer for an integer field, a known value name for an
enum field, an object for a (non well-known) message field, a list of such scalars for a
repeated scalar field. It returns False on anything else — null, numbers as strings, floats,
bytes, maps, well-known types (Timestamps are read leniently by the codec), repeated
messages, unknown keys, a field given twice, two members of a oneof, deep nesting — and the
caller then parses with ``json_format.ParseDict`` as before, which also makes every error
message the one ParseDict gives. Plain module: no HTTP, no connectrpc.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, cast

from google.protobuf.descriptor import FieldDescriptor

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor, EnumDescriptor
    from google.protobuf.message import Message

__all__ = ["fill"]

_MAX_DEPTH = 32
_STRING, _BOOL, _INT, _ENUM, _MESSAGE = range(5)
_INT_RANGES = {
    FieldDescriptor.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.CPPTYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.CPPTYPE_UINT64: (0, 2**64 - 1),
}


class _Field(NamedTuple):
    """How to set one field from plain JSON."""

    name: str  # the attribute
    kind: int  # _STRING, _BOOL, ...
    repeated: bool
    oneof: str | None  # the containing oneof's name (also proto3 ``optional``'s synthetic one)
    low: int = 0  # integers: the range
    high: int = 0
    enum_numbers: dict[str, int] | None = None


_plans: dict[Descriptor, dict[str, _Field] | None] = {}


def fill(obj: dict[str, Any], message: Message) -> bool:
    """Set the fields of a fresh ``message`` from plain JSON, as ``ParseDict`` would.

    Args:
        obj: The decoded JSON object.
        message: A message with no fields set.

    Returns:
        True when done; False when the input is not plain: ``message`` may then be partly
        set and must be dropped (parse a new one with json_format).
    """
    try:
        return _fill(obj, message, 0)
    except (ValueError, TypeError):  # whatever protobuf refuses: json_format will say why
        return False


def _fill(obj: dict[str, Any], message: Message, depth: int) -> bool:  # noqa: PLR0911, PLR0912
    message_type = cast("Descriptor", message.DESCRIPTOR)
    plan = _plans[message_type] if message_type in _plans else _plan(message_type)
    if plan is None or depth > _MAX_DEPTH:
        return False
    seen: set[str] = set()
    for key, value in obj.items():
        field = plan.get(key)
        if field is None or field.name in seen:
            return False
        seen.add(field.name)
        if field.oneof is not None:
            if field.oneof in seen:  # json_format refuses two members of a oneof
                return False
            seen.add(field.oneof)
        if field.kind == _MESSAGE:
            if type(value) is not dict:
                return False
            sub = getattr(message, field.name)
            sub.SetInParent()
            if not _fill(value, sub, depth + 1):
                return False
        elif field.repeated:
            if type(value) is not list:
                return False
            items = [_scalar(field, item) for item in value]
            if _NOT_PLAIN in items:
                return False
            getattr(message, field.name).extend(items)
        else:
            item = _scalar(field, value)
            if item is _NOT_PLAIN:
                return False
            setattr(message, field.name, item)
    return True


_NOT_PLAIN: Any = object()


def _scalar(field: _Field, value: object) -> object:
    kind = field.kind
    if kind == _STRING:
        return value if type(value) is str else _NOT_PLAIN
    if kind == _INT:
        return value if type(value) is int and field.low <= value <= field.high else _NOT_PLAIN
    if kind == _ENUM:
        numbers = field.enum_numbers
        if type(value) is str and numbers is not None and value in numbers:
            return numbers[value]
        return _NOT_PLAIN
    return value if type(value) is bool else _NOT_PLAIN


def _plan(message_type: Descriptor) -> dict[str, _Field] | None:
    """The fields of a message type by JSON key, or None for types the fast path leaves."""
    plan: dict[str, _Field] | None = None
    if not message_type.full_name.startswith("google.protobuf."):
        plan = {}
        by_json: dict[str, _Field] = {}
        for descriptor in message_type.fields:
            field = _field(descriptor)
            if field is not None:
                plan[descriptor.name] = field
                by_json[descriptor.json_name] = field
            else:  # json_format finds this field under both keys: leave them to it
                plan.pop(descriptor.name, None)
                by_json[descriptor.json_name] = _UNSUPPORTED
        plan.update(by_json)  # json_format looks JSON names up first
        plan = {key: field for key, field in plan.items() if field is not _UNSUPPORTED}
    _plans[message_type] = plan
    return plan


_UNSUPPORTED = _Field("", -1, False, None)


def _field(descriptor: FieldDescriptor) -> _Field | None:  # noqa: PLR0911
    """How to set one field, or None when only json_format sets it."""
    if descriptor.is_extension:
        return None
    oneof = descriptor.containing_oneof
    common = (descriptor.name, descriptor.is_repeated, oneof.name if oneof else None)
    cpp_type = descriptor.cpp_type
    if cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        message_type = cast("Descriptor", descriptor.message_type)
        if descriptor.is_repeated or message_type.full_name.startswith("google.protobuf."):
            return None  # maps, repeated messages, well-known types
        return _Field(common[0], _MESSAGE, *common[1:])
    if cpp_type == FieldDescriptor.CPPTYPE_STRING:
        if descriptor.type == FieldDescriptor.TYPE_BYTES:
            return None
        return _Field(common[0], _STRING, *common[1:])
    if cpp_type == FieldDescriptor.CPPTYPE_BOOL:
        return _Field(common[0], _BOOL, *common[1:])
    if cpp_type == FieldDescriptor.CPPTYPE_ENUM:
        enum_type = cast("EnumDescriptor", descriptor.enum_type)
        numbers = {name: value.number for name, value in enum_type.values_by_name.items()}
        return _Field(common[0], _ENUM, *common[1:], enum_numbers=numbers)
    if cpp_type in _INT_RANGES:
        low, high = _INT_RANGES[cpp_type]
        return _Field(common[0], _INT, *common[1:], low=low, high=high)
    return None  # float, double
