"""Keyword arguments → request message, driven by the message descriptor (no IO).

Accepted values, recursively:

- a message of the field's type (copied), or a mapping of field names (proto ``snake_case``
  or JSON ``lowerCamelCase``) to values; an empty mapping sets an empty sub-message, which
  the API reads as "clear" in updates;
- enum values as ints or by name (``"RUNNER_PROVIDER_AWS_EC2"``);
- ``datetime`` (naive = UTC) or RFC 3339 strings for ``Timestamp`` fields, ``timedelta`` or
  seconds for ``Duration`` fields;
- sequences for repeated fields, mappings for map fields;
- ``None`` means "not given" and leaves the field unset.

List requests also take the reference's flattened ``token`` / ``page_size`` keywords, which
go into ``pagination``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from runnerkit.timestamps import parse_timestamp, to_timestamp

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor

__all__ = ["build_request", "field_names"]

M = TypeVar("M", bound=Message)

_TIMESTAMP = "google.protobuf.Timestamp"
_DURATION = "google.protobuf.Duration"
_PAGINATION = "pagination"


def field_names(descriptor: Descriptor) -> list[str]:
    """Keyword names a request accepts: its fields plus flattened pagination keywords.

    Args:
        descriptor: The request message descriptor.

    Returns:
        Field names in declaration order.
    """
    names = [f.name for f in descriptor.fields]
    pagination = descriptor.fields_by_name.get(_PAGINATION)
    if pagination is not None and pagination.message_type is not None:
        names += [f.name for f in pagination.message_type.fields if f.name not in names]
    return names


def build_request(
    message_type: type[M],
    request: M | Mapping[str, Any] | None,
    params: Mapping[str, Any],
    *,
    where: str = "",
) -> M:
    """Build a request message from an optional base request plus keyword arguments.

    Args:
        message_type: The generated request class.
        request: A message of that class, or a mapping, used as the starting point.
        params: Keyword arguments; they override what ``request`` set.
        where: Name of the calling facade method, for error messages.

    Returns:
        A new message; ``request`` is never modified.

    Raises:
        TypeError: Unknown keyword, wrong request type or wrong value type.
        ValueError: Unknown enum name or unparsable timestamp.
    """
    message = message_type()
    if isinstance(request, Message):
        if not isinstance(request, message_type):
            raise TypeError(
                f"{where or message_type.__name__}() expects a {message_type.__name__}, "
                f"got {type(request).__name__}"
            )
        message.CopyFrom(request)
    elif isinstance(request, Mapping):
        _fill(message, request, where)
    elif request is not None:
        raise TypeError(f"request must be a message or a mapping, got {type(request).__name__}")
    _fill(message, params, where, top_level=True)
    return message


def _descriptor(message: Message) -> Descriptor:
    return cast("Descriptor", message.DESCRIPTOR)


def _field(message: Message, name: str) -> FieldDescriptor | None:
    desc = _descriptor(message)
    return desc.fields_by_name.get(name) or desc.fields_by_camelcase_name.get(name)


def _fill(
    message: Message, values: Mapping[str, Any], where: str, *, top_level: bool = False
) -> None:
    for name, value in values.items():
        if value is None:
            continue
        fd = _field(message, name)
        if fd is None and top_level:
            pagination = _descriptor(message).fields_by_name.get(_PAGINATION)
            sub = pagination.message_type if pagination is not None else None
            if sub is not None and name in sub.fields_by_name:
                _fill(getattr(message, _PAGINATION), {name: value}, where)
                continue
        if fd is None:
            known = ", ".join(field_names(_descriptor(message)))
            owner = where + "()" if top_level and where else message.DESCRIPTOR.name
            raise TypeError(f"{owner} got an unexpected argument {name!r}; known: {known}")
        _assign(message, fd, value, where)


def _assign(message: Message, fd: FieldDescriptor, value: object, where: str) -> None:
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        _assign_map(getattr(message, fd.name), fd, value, where)
    elif fd.is_repeated:
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise TypeError(f"{fd.name} takes a sequence, got {type(value).__name__}")
        container = getattr(message, fd.name)
        del container[:]
        for item in value:
            if fd.message_type is not None:
                _set_message(container.add(), item, where, fd.name)
            else:
                container.append(_scalar(fd, item))
    elif fd.message_type is not None:
        _set_message(getattr(message, fd.name), value, where, fd.name)
    else:
        setattr(message, fd.name, _scalar(fd, value))


def _assign_map(
    container: MutableMapping[Any, Any], fd: FieldDescriptor, value: object, where: str
) -> None:
    if not isinstance(value, Mapping):
        raise TypeError(f"{fd.name} takes a mapping, got {type(value).__name__}")
    entry = cast("Descriptor", fd.message_type)
    key_fd = entry.fields_by_name["key"]
    value_fd = entry.fields_by_name["value"]
    container.clear()
    for key, item in value.items():
        if value_fd.message_type is not None:
            _set_message(container[_scalar(key_fd, key)], item, where, fd.name)
        else:
            container[_scalar(key_fd, key)] = _scalar(value_fd, item)


def _set_message(target: Message, value: object, where: str, name: str) -> None:
    full_name = target.DESCRIPTOR.full_name
    if isinstance(value, Message):
        if value.DESCRIPTOR.full_name != full_name:
            raise TypeError(f"{name} takes a {full_name}, got {value.DESCRIPTOR.full_name}")
        target.CopyFrom(value)
    elif full_name == _TIMESTAMP and isinstance(value, datetime):
        target.CopyFrom(to_timestamp(value))
    elif full_name == _TIMESTAMP and isinstance(value, str):
        target.CopyFrom(parse_timestamp(value))
    elif full_name == _DURATION and isinstance(value, timedelta):
        target.FromTimedelta(value)  # type: ignore[attr-defined]
    elif full_name == _DURATION and isinstance(value, int | float) and not isinstance(value, bool):
        target.FromNanoseconds(round(value * 1_000_000_000))  # type: ignore[attr-defined]
    elif isinstance(value, Mapping):
        target.SetInParent()
        _fill(target, value, where)
    else:
        raise TypeError(f"{name} takes a {full_name} or a mapping, got {type(value).__name__}")


def _scalar(fd: FieldDescriptor, value: object) -> object:
    if fd.enum_type is not None:
        if isinstance(value, str):
            enum_value = fd.enum_type.values_by_name.get(value)
            if enum_value is None:
                names = ", ".join(v.name for v in fd.enum_type.values)
                raise ValueError(
                    f"{fd.name}: unknown {fd.enum_type.name} {value!r}; one of {names}"
                )
            return enum_value.number
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{fd.name} takes a {fd.enum_type.name} name or number")
        return int(value)
    if fd.type == FieldDescriptor.TYPE_BYTES and isinstance(value, str):
        return value.encode()
    return value
