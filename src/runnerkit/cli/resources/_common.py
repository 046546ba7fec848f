"""Shared plumbing of the resource commands: options, client, output, errors and exit codes.

Every resource command takes ``--base-url`` (env ``GITPOD_BASE_URL``), ``--token`` (env
``GITPOD_API_KEY``) and ``--json``. People get tables (lists) or ``field: value`` lines
(single objects); ``--json`` prints the Connect JSON of the response (lists: one JSON array
of every item across all pages) for scripts.

Exit codes (documented in ``runnerkit <group> --help`` and docs/client.md):

====  ===============================================================
0     success
1     any other API error (internal, unimplemented, invalid_argument …)
2     usage or configuration error (bad option, no token)
3     not_found
4     permission_denied, unauthenticated
5     already_exists, failed_precondition, aborted (conflicts with state)
6     unavailable, deadline_exceeded, resource_exhausted (try again later)
====  ===============================================================

Errors are printed on stderr as one line: ``error: not_found: runner … not found``.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from connectrpc.code import Code
from google.protobuf import json_format

from runnerkit.client import Client
from runnerkit.client.errors import APIError, ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from google.protobuf.descriptor import EnumDescriptor
    from google.protobuf.message import Message

__all__ = [
    "EXIT_CODES",
    "Column",
    "EnumChoice",
    "api_command",
    "emit_list",
    "emit_message",
    "parse_json_option",
]

R = TypeVar("R")

EXIT_USAGE = 2
EXIT_CODES: dict[Code, int] = {
    Code.NOT_FOUND: 3,
    Code.PERMISSION_DENIED: 4,
    Code.UNAUTHENTICATED: 4,
    Code.ALREADY_EXISTS: 5,
    Code.FAILED_PRECONDITION: 5,
    Code.ABORTED: 5,
    Code.UNAVAILABLE: 6,
    Code.DEADLINE_EXCEEDED: 6,
    Code.RESOURCE_EXHAUSTED: 6,
}

EXIT_HELP = (
    "Exit codes: 0 ok, 1 other API error, 2 usage/configuration, 3 not found, "
    "4 permission denied/unauthenticated, 5 conflict (already exists, failed precondition), "
    "6 unavailable/timeout (retry later)."
)

Column = tuple[str, "Callable[[Any], object]"]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def fail(message: str, code: int) -> NoReturn:
    """Print ``error: message`` on stderr and exit.

    Args:
        message: The error text (made into one line).
        code: The process exit code.

    Raises:
        SystemExit: Always.
    """
    click.echo(f"error: {_one_line(message)}", err=True)
    sys.exit(code)


def api_command(func: Callable[..., R]) -> Callable[..., R]:
    """Decorate a click callback: add the global API options, build the client, map errors.

    The callback receives ``client`` (a :class:`runnerkit.Client`) and ``as_json`` (bool)
    besides its own parameters.

    Args:
        func: The command body.

    Returns:
        The decorated callback (apply ``@group.command()`` on top).
    """

    @click.option(
        "--base-url",
        envvar="GITPOD_BASE_URL",
        show_envvar=True,
        default=None,
        help="API root (default https://app.gitpod.io/api).",
    )
    @click.option(
        "--token",
        envvar="GITPOD_API_KEY",
        show_envvar=True,
        default=None,
        help="Bearer token.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    @functools.wraps(func)
    def wrapper(base_url: str | None, token: str | None, as_json: bool, **kwargs: Any) -> R:  # noqa: ANN401
        try:
            client = Client(base_url=base_url, bearer_token=token)
        except ConfigurationError as exc:
            fail(str(exc), EXIT_USAGE)
        try:
            with client:
                return func(client=client, as_json=as_json, **kwargs)
        except APIError as exc:
            fail(f"{exc.code.value}: {exc.message}", EXIT_CODES.get(exc.code, 1))
        except (TypeError, ValueError) as exc:
            fail(str(exc), EXIT_USAGE)

    wrapper.__doc__ = (func.__doc__ or "").rstrip() + "\n\n" + EXIT_HELP
    return wrapper


class EnumChoice(click.ParamType[str, object]):
    """A protobuf enum by short name (``aws-ec2``, any case) or full name."""

    name = "enum"

    def __init__(self, enum: EnumDescriptor, prefix: str) -> None:
        self._enum = enum
        self._prefix = prefix
        self._short = {
            v.name.removeprefix(prefix).lower().replace("_", "-"): v.name
            for v in enum.values
            if not v.name.endswith("_UNSPECIFIED")
        }

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        """Show the short names in help.

        Args:
            param: The parameter.
            ctx: The click context.

        Returns:
            ``[a|b|c]``.
        """
        return "[" + "|".join(self._short) + "]"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        """Turn a short or full name into the full enum value name.

        Args:
            value: What the user typed.
            param: The parameter.
            ctx: The click context.

        Returns:
            The full name, e.g. ``RUNNER_PROVIDER_AWS_EC2``.
        """
        text = str(value)
        if text in self._enum.values_by_name:
            return text
        full = self._short.get(text.lower().replace("_", "-"))
        if full is None:
            self.fail(f"{text!r} is not one of {', '.join(self._short)}", param, ctx)
        return full


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


def to_dict(message: Message) -> dict[str, Any]:
    """Connect JSON form of a message (lowerCamelCase, enums by name).

    Args:
        message: Any protobuf message.

    Returns:
        A JSON-ready dict.
    """
    return json_format.MessageToDict(message)


def _flatten(value: object, prefix: str = "") -> Iterable[tuple[str, str]]:
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


def emit_message(message: Message, *, as_json: bool) -> None:
    """Print one response: JSON, or ``field: value`` lines for people.

    Args:
        message: The response message.
        as_json: Print JSON instead.
    """
    data = to_dict(message)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    rows = list(_flatten(data))
    if not rows:
        click.echo("ok")
        return
    width = max(len(k) for k, _ in rows)
    for key, text in rows:
        click.echo(f"{key.ljust(width)}  {text}")


def emit_list(items: Iterable[Message], columns: Sequence[Column], *, as_json: bool) -> None:
    """Print items: a JSON array, or an aligned table with the given columns.

    Args:
        items: Messages (iterating a Page fetches every page).
        columns: (header, getter) pairs for the table.
        as_json: Print JSON instead.
    """
    if as_json:
        click.echo(json.dumps([to_dict(i) for i in items], indent=2))
        return
    rows = [[_cell(get(item)) for _, get in columns] for item in items]
    headers = [name for name, _ in columns]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for row in [headers, *rows]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _one_line(str(value))


def enum_name(message: Message, field: str, prefix: str) -> str:
    """Short, lower-case name of an enum field value (``RUNNER_PHASE_ACTIVE`` → ``active``).

    Args:
        message: The message holding the field.
        field: The enum field name.
        prefix: The prefix to strip.

    Returns:
        The short name, or the number if unknown.
    """
    fd = message.DESCRIPTOR.fields_by_name[field]
    number = getattr(message, field)
    value = fd.enum_type.values_by_number.get(number) if fd.enum_type else None
    return value.name.removeprefix(prefix).lower() if value else str(number)


def when(message: Message, field: str) -> str:
    """A timestamp field as RFC 3339 (seconds precision), or ``-`` when unset.

    Args:
        message: The message holding the field.
        field: The Timestamp field name.

    Returns:
        The text.
    """
    if not message.HasField(field):
        return "-"
    return str(getattr(message, field).ToJsonString()).split(".")[0].removesuffix("Z") + "Z"
