"""``runnerkit host-tokens …``: host authentication tokens (your SCM credentials on a runner)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from runnerkit.cli.resources._common import (
    EXIT_HELP,
    api_command,
    confirm_delete,
    require_change,
)
from runnerkit.cli.resources._output import Column, emit_list, emit_message, enum_name, when
from runnerkit.cli.resources._types import EnumChoice, TimestampType
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2

if TYPE_CHECKING:
    from collections.abc import Callable

    from google.protobuf import timestamp_pb2

    from runnerkit.client import Client

__all__ = ["host_tokens"]

SOURCE = EnumChoice(runner_configuration_pb2.HostAuthenticationTokenSource.DESCRIPTOR)
TOKEN_COLUMNS: list[Column] = [
    ("ID", lambda t: t.id),
    ("RUNNER", lambda t: t.runner_id),
    ("HOST", lambda t: t.host),
    ("SOURCE", lambda t: enum_name(t, "source")),
    ("SUBJECT", lambda t: t.subject.id or t.user_id),
    ("EXPIRES", lambda t: when(t, "expires_at")),
]


def _secret_value(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value == "-":
        line: str = sys.stdin.readline()
        return line.rstrip("\r\n")
    return value


def _secret(*, required: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--value",
        "value",
        envvar="RUNNERKIT_HOST_TOKEN",
        show_envvar=True,
        required=required,
        callback=_secret_value,
        help="The token itself ('-' reads one line from stdin).",
    )


_EXPIRES = click.option(
    "--expires-at",
    type=TimestampType(),
    default=None,
    help="Expiry: RFC 3339 (2030-01-01T10:00:00Z; no offset = UTC) or a date (2030-01-01).",
)


@click.group("host-tokens", epilog=EXIT_HELP)
def host_tokens() -> None:
    """Host authentication tokens (your SCM credentials on a runner)."""


@host_tokens.command("list")
@click.option("--runner-id", default=None)
@click.option("--subject-id", default=None)
@api_command
def list_tokens(
    *, client: Client, output: str, runner_id: str | None, subject_id: str | None
) -> None:
    """List host authentication tokens (all pages); secrets are never shown."""
    page = client.runners.configurations.host_authentication_tokens.list(
        filter={"runner_id": runner_id, "subject_id": subject_id}
    )
    emit_list(page, TOKEN_COLUMNS, output=output)


@host_tokens.command("get")
@click.argument("token_id")
@api_command
def get_token(*, client: Client, output: str, token_id: str) -> None:
    """Show one host authentication token (without its secret)."""
    response = client.runners.configurations.host_authentication_tokens.retrieve(id=token_id)
    emit_message(response.token, output=output)


@host_tokens.command("create")
@click.argument("runner_id")
@click.option("--host", required=True)
@_secret(required=True)
@click.option("--refresh-token", default=None)
@click.option("--source", type=SOURCE, default=None)
@_EXPIRES
@click.option("--subject-id", default=None, help="Token owner (admins only; default: you).")
@click.option("--integration-id", default=None)
@click.option("--scope", "scopes", multiple=True, help="Scope (repeatable).")
@api_command
def create_token(
    *,
    client: Client,
    output: str,
    runner_id: str,
    host: str,
    value: str,
    refresh_token: str | None,
    source: int | None,
    expires_at: timestamp_pb2.Timestamp | None,
    subject_id: str | None,
    integration_id: str | None,
    scopes: tuple[str, ...],
) -> None:
    """Store a host authentication token for RUNNER_ID; prints it (without the secret)."""
    response = client.runners.configurations.host_authentication_tokens.create(
        runner_id=runner_id,
        host=host,
        token=value,
        refresh_token=refresh_token,
        source=source,
        expires_at=expires_at,
        subject={"id": subject_id} if subject_id else None,
        integration_id=integration_id,
        scopes=scopes,
    )
    emit_message(response, output=output)


@host_tokens.command("update")
@click.argument("token_id")
@_secret(required=False)
@click.option("--refresh-token", default=None)
@_EXPIRES
@click.option("--scope", "scopes", multiple=True, help="Replace the scopes (repeatable).")
@api_command
def update_token(
    *,
    client: Client,
    output: str,
    token_id: str,
    value: str | None,
    refresh_token: str | None,
    expires_at: timestamp_pb2.Timestamp | None,
    scopes: tuple[str, ...],
) -> None:
    """Change a host authentication token (only the fields given); prints the token."""
    require_change(
        {
            "--value": value,
            "--refresh-token": refresh_token,
            "--expires-at": expires_at,
            "--scope": scopes,
        }
    )
    tokens = client.runners.configurations.host_authentication_tokens
    tokens.update(
        id=token_id,
        token=value,
        refresh_token=refresh_token,
        expires_at=expires_at,
        scopes=scopes or None,
    )
    emit_message(tokens.retrieve(id=token_id).token, output=output)


@host_tokens.command("delete")
@click.argument("token_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_command
def delete_token(*, client: Client, output: str, token_id: str, yes: bool) -> None:
    """Delete a host authentication token (asks first unless --yes)."""
    confirm_delete(f"host authentication token {token_id}", yes=yes)
    response = client.runners.configurations.host_authentication_tokens.delete(id=token_id)
    emit_message(response, output=output)
