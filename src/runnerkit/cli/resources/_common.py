"""Shared plumbing of the resource commands: global options, the client, errors, exit codes.

Every resource command takes ``--base-url`` (env ``GITPOD_BASE_URL``), ``--token`` (env
``GITPOD_API_KEY``) and ``--output table|json|yaml`` (``-o``; ``--json`` is short for
``--output json``); see ``_output`` for what each prints.

Exit codes (documented in ``runnerkit <group> --help`` and docs/client.md):

====  ===============================================================
0     success
1     any other API error (internal, unimplemented, invalid_argument …); a declined delete
2     usage or configuration error (bad or missing option, no token, nothing to update)
3     not_found
4     permission_denied, unauthenticated
5     already_exists, failed_precondition, aborted (conflicts with state)
6     unavailable, deadline_exceeded, resource_exhausted (try again later); server unreachable
====  ===============================================================

Errors are printed on stderr as one line: ``error: not_found: runner … not found``.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from connectrpc.code import Code

from runnerkit.cli.resources._output import OUTPUTS
from runnerkit.client import Client
from runnerkit.client.auth import API_KEY_ENV, BASE_URL_ENV
from runnerkit.client.errors import APIError, ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "EXIT_CODES",
    "EXIT_HELP",
    "api_command",
    "confirm_delete",
    "fail",
    "require_change",
]

R = TypeVar("R")

EXIT_USAGE = 2
EXIT_UNREACHABLE = 6
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
    "6 unavailable/timeout/unreachable (retry later)."
)
_OS_ERROR = re.compile(r"\s*\(os error \d+\)")


def fail(message: str, code: int) -> NoReturn:
    """Print ``error: message`` on stderr (one line) and exit.

    Args:
        message: The error text (made into one line).
        code: The process exit code.

    Raises:
        SystemExit: Always.
    """
    click.echo("error: " + " ".join(message.split()), err=True)
    sys.exit(code)


def _unreachable(base_url: str, error: APIError) -> str:
    reason = _OS_ERROR.sub("", error.message.rsplit(": ", 1)[-1]).strip()
    if error.code is Code.DEADLINE_EXCEEDED:
        reason = "timed out"
    return f"cannot reach {base_url}: {reason or error.code.value}"


def require_change(values: Mapping[str, object]) -> None:
    """Fail with a usage error when no option of an update was given.

    Args:
        values: Option name (``--name``) → its value (None when not given).

    Raises:
        click.UsageError: Nothing would change.
    """
    if all(v is None or v == () for v in values.values()):
        raise click.UsageError("nothing to update: give at least one of " + ", ".join(values))


def confirm_delete(what: str, *, yes: bool) -> None:
    """Ask before deleting, unless ``--yes`` was given.

    Args:
        what: What is deleted, e.g. ``runner 1234``.
        yes: The ``--yes`` flag.

    Raises:
        click.Abort: The user declined (or stdin is not interactive and gave no answer).
    """
    if not yes:
        click.confirm(f"Delete {what}?", abort=True, err=True)


def api_command(func: Callable[..., R]) -> Callable[..., R]:
    """Decorate a click callback: add the global API options, build the client, map errors.

    The callback receives ``client`` (a :class:`runnerkit.Client`) and ``output`` (``table``,
    ``json`` or ``yaml``) besides its own parameters.

    Args:
        func: The command body.

    Returns:
        The decorated callback (apply ``@group.command()`` on top).
    """

    @click.option(
        "--base-url",
        envvar=BASE_URL_ENV,
        show_envvar=True,
        default=None,
        help="API root (default https://app.gitpod.io/api).",
    )
    @click.option("--token", envvar=API_KEY_ENV, show_envvar=True, default=None, help="API token.")
    @click.option(
        "--output",
        "-o",
        type=click.Choice(OUTPUTS),
        default=None,
        help="table for people (default), json or yaml for scripts.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Short for --output json.")
    @functools.wraps(func)
    def wrapper(
        base_url: str | None,
        token: str | None,
        output: str | None,
        as_json: bool,
        **kwargs: Any,  # noqa: ANN401
    ) -> R:
        if as_json and output not in (None, "json"):
            raise click.UsageError("--json and --output yaml|table contradict each other")
        if not token:
            fail(f"no API token: pass --token or set {API_KEY_ENV}", EXIT_USAGE)
        try:
            client = Client(base_url=base_url, bearer_token=token)
        except ConfigurationError as exc:
            fail(str(exc), EXIT_USAGE)
        try:
            with client:
                return func(
                    client=client, output="json" if as_json else output or "table", **kwargs
                )
        except APIError as exc:
            if exc.status_code is None and exc.code in (Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED):
                fail(_unreachable(client.base_url, exc), EXIT_UNREACHABLE)
            fail(f"{exc.code.value}: {exc.message}", EXIT_CODES.get(exc.code, 1))
        except (TypeError, ValueError) as exc:
            fail(str(exc), EXIT_USAGE)

    wrapper.__doc__ = (func.__doc__ or "").rstrip() + "\n\n" + EXIT_HELP
    return wrapper
