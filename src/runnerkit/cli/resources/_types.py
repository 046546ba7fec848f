"""Option types of the resource commands: enums by short name, timestamps, JSON, KEY=VALUE.

Every value the commands print can be given back to them: enums are shown and taken by the
short name (``aws-ec2``; the full ``RUNNER_PROVIDER_AWS_EC2`` is accepted too), timestamps are
shown and taken as RFC 3339 (``2030-01-01T10:00:00Z``).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import click

from runnerkit.timestamps import parse_timestamp

if TYPE_CHECKING:
    from google.protobuf import timestamp_pb2
    from google.protobuf.descriptor import EnumDescriptor

__all__ = ["EnumChoice", "TimestampType", "key_values", "parse_json_option", "short_enum_name"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

if TYPE_CHECKING:
    # click >= 8.3 types ParamType by (value, input); older releases are not generic.
    _EnumParam = click.ParamType[int, object]
    _TimestampParam = click.ParamType[timestamp_pb2.Timestamp, object]
else:
    _EnumParam = _TimestampParam = click.ParamType


def _prefix(enum: EnumDescriptor) -> str:
    for value in enum.values:
        if value.name.endswith("_UNSPECIFIED"):
            return value.name.removesuffix("UNSPECIFIED")
    return ""


def short_enum_name(enum: EnumDescriptor, number: int) -> str:
    """The name the commands show and take for an enum value (``aws-ec2``).

    Args:
        enum: The enum's descriptor.
        number: The value.

    Returns:
        The value's name without the enum's prefix, lower case, ``-`` for ``_``; the number
        as text when the value is unknown.
    """
    value = enum.values_by_number.get(number)
    if value is None:
        return str(number)
    return value.name.removeprefix(_prefix(enum)).lower().replace("_", "-")


class EnumChoice(_EnumParam):
    """A protobuf enum by short name (``aws-ec2``, any case) or full name; gives the number."""

    name = "enum"

    def __init__(self, enum: EnumDescriptor) -> None:
        self._enum = enum
        self._numbers = {
            short_enum_name(enum, v.number): v.number
            for v in enum.values
            if not v.name.endswith("_UNSPECIFIED")
        }

    @property
    def choices(self) -> list[str]:
        """The short names, in declaration order."""
        return list(self._numbers)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        """Show the short names in help.

        Args:
            param: The parameter.
            ctx: The click context.

        Returns:
            ``[a|b|c]``.
        """
        return "[" + "|".join(self._numbers) + "]"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[click.shell_completion.CompletionItem]:
        """Complete the short names.

        Args:
            ctx: The click context.
            param: The parameter.
            incomplete: What was typed so far.

        Returns:
            The matching names.
        """
        return [
            click.shell_completion.CompletionItem(name)
            for name in self._numbers
            if name.startswith(incomplete.lower())
        ]

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:  # noqa: ANN401
        """Turn a short or full name into the enum number.

        Args:
            value: What the user typed (or a number already converted).
            param: The parameter.
            ctx: The click context.

        Returns:
            The enum value's number.
        """
        if isinstance(value, int):
            return value
        text = str(value)
        full = self._enum.values_by_name.get(text)
        if full is not None:
            return int(full.number)
        number = self._numbers.get(text.lower().replace("_", "-"))
        if number is None:
            self.fail(f"{text!r} is not one of {', '.join(self._numbers)}", param, ctx)
        return number


class TimestampType(_TimestampParam):
    """An RFC 3339 date-time (``2030-01-01T10:00:00Z``, offsets, fractions) or a date (UTC)."""

    name = "timestamp"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        """Show the format in help.

        Args:
            param: The parameter.
            ctx: The click context.

        Returns:
            The metavar.
        """
        return "RFC3339"

    def convert(
        self,
        value: Any,  # noqa: ANN401
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> timestamp_pb2.Timestamp:
        """Parse the text; without an offset it is UTC, a bare date is midnight UTC.

        Args:
            value: What the user typed.
            param: The parameter.
            ctx: The click context.

        Returns:
            The timestamp.
        """
        if not isinstance(value, str):
            return value  # type: ignore[no-any-return]
        text = value.strip()
        if _DATE.fullmatch(text):
            text += "T00:00:00Z"
        try:
            return parse_timestamp(text.replace(" ", "T", 1))
        except ValueError:
            self.fail(
                f"{value!r} is not a date-time like 2030-01-01T10:00:00Z or a date like 2030-01-01",
                param,
                ctx,
            )


def parse_json_option(value: str | None, option: str) -> dict[str, Any] | None:
    """Parse a JSON object given on the command line (e.g. ``--spec '{...}'``).

    Args:
        value: The option value, or None.
        option: The option name for the error message.

    Returns:
        The decoded object, or None.

    Raises:
        click.BadParameter: Not a JSON object.
    """
    if value is None:
        return None
    try:
        decoded = json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc.msg}", param_hint=option) from exc
    if not isinstance(decoded, dict):
        raise click.BadParameter("must be a JSON object", param_hint=option)
    return decoded


def key_values(pairs: tuple[str, ...], option: str) -> list[dict[str, str]]:
    """``KEY=VALUE`` options as ``{"key": ..., "value": ...}`` entries.

    Args:
        pairs: The repeated option's values.
        option: The option name for the error message.

    Returns:
        The entries, in order.

    Raises:
        click.BadParameter: A value without ``=`` or with an empty key.
    """
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        out.append({"key": key, "value": value})
    return out
