"""How the resource commands print: ``--output table`` (default), ``json`` or ``yaml``.

- ``table``: lists as an aligned table (all pages), one object as ``field  value`` lines;
  enums by the short names the options take (``aws-ec2``), timestamps as RFC 3339.
- ``json``: the Connect JSON of the response (lists: one JSON array of every item), as the
  API and ``runnerkit.to_json`` write it — for scripts.
- ``yaml``: the same data as ``json``, as YAML.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from runnerkit.cli.resources._types import short_enum_name
from runnerkit.messages import to_dict

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from google.protobuf.message import Message

__all__ = ["OUTPUTS", "Column", "emit_list", "emit_message", "enum_name", "when"]

OUTPUTS = ("table", "json", "yaml")
Column = tuple[str, "Callable[[Any], object]"]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _print_data(data: object, output: str) -> None:
    if output == "yaml":
        import yaml  # noqa: PLC0415 - only --output yaml needs it

        click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
    else:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def human_dict(message: Message) -> dict[str, Any]:
    """The JSON form of ``message`` with enums by their short names (``aws-ec2``).

    Args:
        message: Any protobuf message.

    Returns:
        The dict (JSON names).
    """
    data = to_dict(message)
    _short_enums(message, data)
    return data


def _short_enums(message: Message, data: dict[str, Any]) -> None:
    for fd, value in message.ListFields():
        key = fd.json_name
        if key not in data:
            continue
        if fd.enum_type is not None:
            if fd.is_repeated:
                data[key] = [short_enum_name(fd.enum_type, v) for v in value]
            else:
                data[key] = short_enum_name(fd.enum_type, value)
        elif fd.message_type is not None and not fd.message_type.GetOptions().map_entry:
            items = value if fd.is_repeated else [value]
            targets = data[key] if fd.is_repeated else [data[key]]
            for item, target in zip(items, targets, strict=True):
                if isinstance(target, dict):
                    _short_enums(item, target)


def _flatten(value: object, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        for i, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{i}]")
    elif isinstance(value, list):
        yield prefix, ", ".join(str(v) for v in value)
    else:
        yield prefix, str(value).lower() if isinstance(value, bool) else str(value)


def emit_message(message: Message, *, output: str, always: Sequence[str] = ()) -> None:
    """Print one object: JSON, YAML, or ``field  value`` lines for people.

    Args:
        message: The message (a response or a resource).
        output: One of :data:`OUTPUTS`.
        always: Scalar fields (single-word names) shown even at their default value, which
            protobuf's JSON leaves out (e.g. ``valid`` of a validation result).
    """
    if output != "table":
        data = to_dict(message)
        for name in always:
            data.setdefault(name, getattr(message, name))
        _print_data(data, output)
        return
    shown = human_dict(message)
    defaults = {n: str(getattr(message, n)).lower() for n in always if n not in shown}
    rows = list(_flatten({**defaults, **shown}))
    if not rows:
        click.echo("ok")
        return
    width = max(len(k) for k, _ in rows)
    for key, text in rows:
        click.echo(f"{key.ljust(width)}  {_one_line(text)}")


def emit_list(items: Iterable[Message], columns: Sequence[Column], *, output: str) -> None:
    """Print items: a JSON or YAML list, or an aligned table with the given columns.

    Args:
        items: Messages (iterating a Page fetches every page).
        columns: (header, getter) pairs for the table.
        output: One of :data:`OUTPUTS`.
    """
    if output != "table":
        _print_data([to_dict(i) for i in items], output)
        return
    rows = [[_cell(get(item)) for _, get in columns] for item in items]
    headers = [name for name, _ in columns]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for row in [headers, *rows]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _one_line(str(value)) or "-"


def enum_name(message: Message, field: str) -> str:
    """An enum field's value by the short name the options take (``aws-ec2``).

    Args:
        message: The message holding the field.
        field: The enum field name.

    Returns:
        The short name, or the number if unknown.
    """
    enum: Any = message.DESCRIPTOR.fields_by_name[field].enum_type
    return short_enum_name(enum, getattr(message, field))


def when(message: Message, field: str) -> str:
    """A timestamp field as RFC 3339 (as ``--expires-at`` takes it), or ``-`` when unset.

    Args:
        message: The message holding the field.
        field: The Timestamp field name.

    Returns:
        The text.
    """
    if not message.HasField(field):
        return "-"
    return str(getattr(message, field).ToJsonString())
