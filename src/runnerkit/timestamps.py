"""Conversions between :class:`datetime.datetime` and ``google.protobuf.Timestamp``.

Rules:

- Datetimes coming *out* are always timezone-aware and in UTC.
- Aware datetimes going *in* are converted to UTC; **naive datetimes are read as UTC**
  (the reference's own examples pass ``datetime.fromisoformat("2024-12-31T23:59:59")``,
  and the server reads offset-less JSON timestamps the same way).
- A ``datetime`` holds microseconds, a ``Timestamp`` nanoseconds: datetime → Timestamp is
  exact; Timestamp → datetime truncates to the microsecond. :func:`parse_timestamp` and
  :func:`format_timestamp` keep all nine digits for callers that need them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from google.protobuf import timestamp_pb2

__all__ = [
    "format_timestamp",
    "from_timestamp",
    "parse_timestamp",
    "to_timestamp",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HAS_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}:?\d{2})$")


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """Convert a datetime to a ``Timestamp``; naive values are read as UTC.

    Args:
        value: The point in time. Aware values are converted to UTC first.

    Returns:
        A new ``google.protobuf.Timestamp`` with microsecond precision.

    Raises:
        TypeError: ``value`` is not a datetime.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    delta = _as_utc(value) - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    seconds, micro_rest = divmod(micros, 1_000_000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=micro_rest * 1_000)


def from_timestamp(value: timestamp_pb2.Timestamp) -> datetime:
    """Convert a ``Timestamp`` to an aware UTC datetime (nanoseconds truncated to microseconds).

    Args:
        value: The protobuf timestamp.

    Returns:
        A timezone-aware datetime in UTC.
    """
    return _EPOCH + timedelta(seconds=value.seconds, microseconds=value.nanos // 1_000)


def parse_timestamp(text: str) -> timestamp_pb2.Timestamp:
    """Parse an RFC 3339 string, keeping up to nine fractional digits.

    A string without an offset is read as UTC, like a naive datetime.

    Args:
        text: For example ``"2024-12-31T23:59:59.123456789Z"`` or ``"2024-12-31T23:59:59"``.

    Returns:
        The timestamp.

    Raises:
        ValueError: ``text`` is not an RFC 3339 date-time.
    """
    candidate = text.strip()
    if not _HAS_OFFSET.search(candidate):
        candidate += "Z"
    ts = timestamp_pb2.Timestamp()
    try:
        ts.FromJsonString(candidate)
    except ValueError as exc:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}") from exc
    return ts


def format_timestamp(value: timestamp_pb2.Timestamp) -> str:
    """Format a ``Timestamp`` as RFC 3339 in UTC (``Z``), with 0, 3, 6 or 9 fractional digits.

    Args:
        value: The protobuf timestamp.

    Returns:
        The text, as the protobuf JSON mapping writes it.
    """
    return str(value.ToJsonString())
