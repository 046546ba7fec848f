"""Responses as plain Python: ``to_dict``, ``to_json``, ``to_datetime``, ``to_timedelta``.

The API's responses are protobuf messages (typed, with presence). For logging, templating or
comparing with JSON fixtures, these give the protobuf JSON mapping as Python values:

- names are the JSON names (``runnerId``), or the proto field names (``runner_id``) with
  ``use_field_names=True``;
- enums are their names (``"RUNNER_PHASE_ACTIVE"``), 64-bit integers strings (as in JSON),
  bytes base64;
- timestamps are RFC 3339 strings, or aware UTC ``datetime`` objects with ``datetimes=True``
  (durations then ``timedelta``);
- fields left at their default are omitted unless ``include_defaults=True``.

``to_datetime(runner.created_at)`` is the way out that matches passing a ``datetime`` in.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format

from runnerkit.timestamps import from_timestamp

if TYPE_CHECKING:
    from datetime import datetime

    from google.protobuf import duration_pb2, timestamp_pb2
    from google.protobuf.message import Message

__all__ = ["to_datetime", "to_dict", "to_json", "to_timedelta"]

_TIMESTAMP = "google.protobuf.Timestamp"
_DURATION = "google.protobuf.Duration"


def to_datetime(value: timestamp_pb2.Timestamp) -> datetime:
    """A ``Timestamp`` as an aware UTC datetime (nanoseconds truncated to microseconds).

    Args:
        value: For example ``runner.created_at``.

    Returns:
        The datetime, ``tzinfo=UTC``.
    """
    return from_timestamp(value)


def to_timedelta(value: duration_pb2.Duration) -> timedelta:
    """A ``Duration`` as a ``timedelta`` (nanoseconds truncated to microseconds).

    Args:
        value: For example ``runner.status.gateway_info.latency``.

    Returns:
        The timedelta.
    """
    return timedelta(seconds=value.seconds, microseconds=value.nanos // 1_000)


def to_dict(
    message: Message,
    *,
    use_field_names: bool = False,
    include_defaults: bool = False,
    datetimes: bool = False,
) -> dict[str, Any]:
    """The protobuf JSON mapping of ``message`` as a dict.

    Args:
        message: Any protobuf message, e.g. a response or ``response.runner``.
        use_field_names: Keys as proto field names (``runner_id``) instead of JSON names.
        include_defaults: Also list fields without presence that hold their default.
        datetimes: Timestamps as ``datetime`` and durations as ``timedelta`` (not strings).

    Returns:
        A new dict; with ``datetimes=False`` it is JSON-serialisable as is.
    """
    data: dict[str, Any] = json_format.MessageToDict(
        message,
        preserving_proto_field_name=use_field_names,
        always_print_fields_with_no_presence=include_defaults,
    )
    if datetimes:
        _native_times(message, data, use_field_names=use_field_names)
    return data


def to_json(
    message: Message,
    *,
    use_field_names: bool = False,
    include_defaults: bool = False,
    indent: int | None = None,
) -> str:
    """The protobuf JSON of ``message`` (compact unless ``indent`` is given).

    Args:
        message: Any protobuf message.
        use_field_names: Keys as proto field names instead of JSON names.
        include_defaults: Also list fields without presence that hold their default.
        indent: Pretty-print with this indent.

    Returns:
        The JSON text (non-ASCII characters kept as they are).
    """
    data = to_dict(message, use_field_names=use_field_names, include_defaults=include_defaults)
    separators = (",", ":") if indent is None else None
    return json.dumps(data, indent=indent, separators=separators, ensure_ascii=False)


def _native(value: Message) -> object:
    name = value.DESCRIPTOR.full_name
    if name == _TIMESTAMP:
        return to_datetime(value)  # type: ignore[arg-type]
    return to_timedelta(value)  # type: ignore[arg-type]


def _native_times(message: Message, data: dict[str, Any], *, use_field_names: bool) -> None:
    for fd, value in message.ListFields():
        key = fd.name if use_field_names else fd.json_name
        sub = fd.message_type
        if sub is None or key not in data:
            continue
        if sub.GetOptions().map_entry:
            value_fd = sub.fields_by_name["value"]
            if value_fd.message_type is not None:
                for map_key, item in value.items():
                    _convert(item, data[key], str(map_key), use_field_names=use_field_names)
        elif fd.is_repeated:
            for index, item in enumerate(value):
                _convert(item, data[key], index, use_field_names=use_field_names)
        elif sub.full_name in (_TIMESTAMP, _DURATION):
            data[key] = _native(value)
        else:
            _native_times(value, data[key], use_field_names=use_field_names)


def _convert(item: Message, container: Any, where: str | int, *, use_field_names: bool) -> None:  # noqa: ANN401
    if item.DESCRIPTOR.full_name in (_TIMESTAMP, _DURATION):
        container[where] = _native(item)
    elif isinstance(container[where], dict):
        _native_times(item, container[where], use_field_names=use_field_names)
