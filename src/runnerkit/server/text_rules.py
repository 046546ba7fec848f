r"""Rules for text a client sends: NUL characters, unpaired surrogates, echoing input safely.

- **NUL** (``U+0000``) is refused in every string field of a request, with ``invalid_argument``
  naming the field (``spec.configuration.region``, ``filter.creator_ids[1]``,
  ``labels["key"]``): PostgreSQL cannot store it in text columns, and SQLite and PostgreSQL must
  answer alike. Bytes fields may hold any byte.
- **Unpaired surrogates** (``"\\ud800"`` in JSON) are not text: a JSON body holding one, in a
  value or a key, is refused naming where it is (the JSON path as sent, e.g. ``filter.kinds[0]``).
  Binary protobuf cannot carry them (its strings must be valid UTF-8).
- **Echoing input**: :func:`printable` makes any text safe to put into an error message — it is
  encodable as UTF-8 (unpaired surrogates become ``\\udXXX`` escapes) and bounded in length.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Mapping

    from google.protobuf.descriptor import FieldDescriptor
    from google.protobuf.message import Message

__all__ = ["MAX_ECHO_CHARS", "nul_field", "printable", "surrogate_path"]

MAX_ECHO_CHARS = 200
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING = 9  # FieldDescriptor.TYPE_STRING
_MESSAGE = 11  # FieldDescriptor.TYPE_MESSAGE


def printable(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    r"""``text`` made safe to echo: valid UTF-8 and at most about ``limit`` characters.

    Args:
        text: Anything, e.g. part of a request.
        limit: The most characters kept; longer text ends in ``…``.

    Returns:
        The text with unpaired surrogates escaped (``\\ud800``) and cut to ``limit``.
    """
    if len(text) > limit:
        text = text[:limit] + "…"
    if _SURROGATE.search(text):
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _key(key: str) -> str:
    return printable(key, 64)


def surrogate_path(value: object, path: str = "") -> str | None:
    """Where the first unpaired surrogate is in decoded JSON, or None when there is none.

    Args:
        value: What ``json.loads`` returned (objects, arrays, strings, numbers...).
        path: The path of ``value`` itself ("" for the whole body).

    Returns:
        The JSON path (``filter.kinds[0]``; a key holding one names itself, escaped), or
        None.
    """
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return where or "request body"
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{where}.{_key(key)}" if where else _key(key)
                if _SURROGATE.search(key):
                    return child_path
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
    return None


def nul_field(message: Message, path: str = "") -> str | None:
    """The first string field of ``message`` (at any depth) that holds a NUL character.

    Args:
        message: A protobuf message, e.g. a decoded request.
        path: The path of ``message`` itself ("" for a request).

    Returns:
        The field's path in proto names (``spec.configuration.region``,
        ``filter.creator_ids[1]``, ``labels["key"]``), or None when no string holds NUL.
    """
    for field, value in message.ListFields():
        name = f"{path}.{field.name}" if path else field.name
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            found = _nul_in_map(field, value, name)
        elif field.type not in (_STRING, _MESSAGE):
            continue
        elif field.is_repeated:
            found = next(
                (f for i, item in enumerate(value) if (f := _nul_in(field, item, f"{name}[{i}]"))),
                None,
            )
        else:
            found = _nul_in(field, value, name)
        if found:
            return found
    return None


def _nul_in(field: FieldDescriptor, value: object, name: str) -> str | None:
    if isinstance(value, str):
        return name if "\x00" in value else None
    if field.type == _MESSAGE:
        return nul_field(cast("Message", value), name)
    return None


def _nul_in_map(field: FieldDescriptor, value: Mapping[object, object], name: str) -> str | None:
    value_field = field.message_type.fields_by_name["value"]  # type: ignore[union-attr]
    for key, item in value.items():
        where = f"{name}[{_quoted(key)}]"
        if isinstance(key, str) and "\x00" in key:
            return where
        found = _nul_in(value_field, item, where)
        if found:
            return found
    return None


def _quoted(key: object) -> str:
    text = printable(str(key), 64).replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\x00", "\\u0000")
    return f'"{text}"' if isinstance(key, str) else text
