"""``runnerkit environment-classes|scm-integrations|host-tokens|schema …``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from runnerkit.cli.resources._common import (
    EXIT_HELP,
    Column,
    EnumChoice,
    api_command,
    emit_list,
    emit_message,
    enum_name,
    when,
)
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2

if TYPE_CHECKING:
    from datetime import datetime

    from runnerkit.client import Client

__all__ = ["environment_classes", "host_tokens", "schema", "scm_integrations"]

SOURCE = EnumChoice(
    runner_configuration_pb2.HostAuthenticationTokenSource.DESCRIPTOR,
    "HOST_AUTHENTICATION_TOKEN_SOURCE_",
)

CLASS_COLUMNS: list[Column] = [
    ("ID", lambda c: c.id),
    ("RUNNER", lambda c: c.runner_id),
    ("NAME", lambda c: c.display_name),
    ("ENABLED", lambda c: c.enabled),
    ("CONFIGURATION", lambda c: ", ".join(f"{v.key}={v.value}" for v in c.configuration)),
]
SCM_COLUMNS: list[Column] = [
    ("ID", lambda i: i.id),
    ("RUNNER", lambda i: i.runner_id),
    ("SCM", lambda i: i.scm_id),
    ("HOST", lambda i: i.host),
    ("OAUTH", lambda i: i.HasField("oauth")),
    ("PAT", lambda i: i.pat),
]
TOKEN_COLUMNS: list[Column] = [
    ("ID", lambda t: t.id),
    ("RUNNER", lambda t: t.runner_id),
    ("HOST", lambda t: t.host),
    ("SOURCE", lambda t: enum_name(t, "source", "HOST_AUTHENTICATION_TOKEN_SOURCE_")),
    ("SUBJECT", lambda t: t.subject.id or t.user_id),
    ("EXPIRES", lambda t: when(t, "expires_at")),
]


def _key_values(pairs: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--config")
        out.append({"key": key, "value": value})
    return out


@click.group("environment-classes", epilog=EXIT_HELP)
def environment_classes() -> None:
    """Environment classes of runners."""


@environment_classes.command("list")
@click.option("--runner-id", "runner_ids", multiple=True, help="Filter (repeatable).")
@click.option("--enabled/--disabled", default=None, help="Filter on enabled.")
@click.option("--can-create", is_flag=True, default=None, help="Only classes you can use.")
@api_command
def list_classes(
    *,
    client: Client,
    as_json: bool,
    runner_ids: tuple[str, ...],
    enabled: bool | None,
    can_create: bool | None,
) -> None:
    """List environment classes (all pages)."""
    page = client.runners.configurations.environment_classes.list(
        filter={"runner_ids": runner_ids, "enabled": enabled, "can_create_environments": can_create}
    )
    emit_list(page, CLASS_COLUMNS, as_json=as_json)


@environment_classes.command("get")
@click.argument("environment_class_id")
@api_command
def get_class(*, client: Client, as_json: bool, environment_class_id: str) -> None:
    """Show one environment class."""
    response = client.runners.configurations.environment_classes.retrieve(
        environment_class_id=environment_class_id
    )
    emit_message(response.environment_class, as_json=as_json)


@environment_classes.command("create")
@click.argument("runner_id")
@click.option("--display-name", required=True)
@click.option("--description", default=None)
@click.option("--config", "config", multiple=True, help="KEY=VALUE (repeatable).")
@api_command
def create_class(
    *,
    client: Client,
    as_json: bool,
    runner_id: str,
    display_name: str,
    description: str | None,
    config: tuple[str, ...],
) -> None:
    """Create an environment class on RUNNER_ID; prints its id."""
    response = client.runners.configurations.environment_classes.create(
        runner_id=runner_id,
        display_name=display_name,
        description=description,
        configuration=_key_values(config),
    )
    emit_message(response, as_json=as_json)


@environment_classes.command("update")
@click.argument("environment_class_id")
@click.option("--display-name", default=None)
@click.option("--description", default=None)
@click.option("--enable/--disable", "enabled", default=None)
@api_command
def update_class(
    *,
    client: Client,
    as_json: bool,
    environment_class_id: str,
    display_name: str | None,
    description: str | None,
    enabled: bool | None,
) -> None:
    """Change an environment class (only the fields given)."""
    response = client.runners.configurations.environment_classes.update(
        environment_class_id=environment_class_id,
        display_name=display_name,
        description=description,
        enabled=enabled,
    )
    emit_message(response, as_json=as_json)


@click.group("scm-integrations", epilog=EXIT_HELP)
def scm_integrations() -> None:
    """SCM integrations (GitHub, GitLab, …) of runners."""


@scm_integrations.command("list")
@click.option("--runner-id", "runner_ids", multiple=True, help="Filter (repeatable).")
@api_command
def list_integrations(*, client: Client, as_json: bool, runner_ids: tuple[str, ...]) -> None:
    """List SCM integrations (all pages)."""
    page = client.runners.configurations.scm_integrations.list(filter={"runner_ids": runner_ids})
    emit_list(page, SCM_COLUMNS, as_json=as_json)


@scm_integrations.command("get")
@click.argument("integration_id")
@api_command
def get_integration(*, client: Client, as_json: bool, integration_id: str) -> None:
    """Show one SCM integration."""
    response = client.runners.configurations.scm_integrations.retrieve(id=integration_id)
    emit_message(response.integration, as_json=as_json)


_OAUTH_SECRET = click.option(
    "--oauth-client-secret",
    envvar="RUNNERKIT_OAUTH_CLIENT_SECRET",
    show_envvar=True,
    default=None,
    help="OAuth client secret (plain text; sealed by the server).",
)


@scm_integrations.command("create")
@click.argument("runner_id")
@click.option("--scm-id", required=True, help="github, gitlab, bitbucket, azuredevops.")
@click.option("--host", required=True)
@click.option("--oauth-client-id", default=None)
@_OAUTH_SECRET
@click.option("--pat/--no-pat", default=None, help="Allow personal access tokens.")
@api_command
def create_integration(
    *,
    client: Client,
    as_json: bool,
    runner_id: str,
    scm_id: str,
    host: str,
    oauth_client_id: str | None,
    oauth_client_secret: str | None,
    pat: bool | None,
) -> None:
    """Create an SCM integration on RUNNER_ID; prints its id."""
    response = client.runners.configurations.scm_integrations.create(
        runner_id=runner_id,
        scm_id=scm_id,
        host=host,
        oauth_client_id=oauth_client_id,
        oauth_plaintext_client_secret=oauth_client_secret,
        pat=pat,
    )
    emit_message(response, as_json=as_json)


@scm_integrations.command("update")
@click.argument("integration_id")
@click.option("--oauth-client-id", default=None, help="Empty string removes the OAuth config.")
@_OAUTH_SECRET
@click.option("--pat/--no-pat", default=None)
@api_command
def update_integration(
    *,
    client: Client,
    as_json: bool,
    integration_id: str,
    oauth_client_id: str | None,
    oauth_client_secret: str | None,
    pat: bool | None,
) -> None:
    """Change an SCM integration (only the fields given)."""
    response = client.runners.configurations.scm_integrations.update(
        id=integration_id,
        oauth_client_id=oauth_client_id,
        oauth_plaintext_client_secret=oauth_client_secret,
        pat=pat,
    )
    emit_message(response, as_json=as_json)


@scm_integrations.command("delete")
@click.argument("integration_id")
@api_command
def delete_integration(*, client: Client, as_json: bool, integration_id: str) -> None:
    """Delete an SCM integration."""
    response = client.runners.configurations.scm_integrations.delete(id=integration_id)
    emit_message(response, as_json=as_json)


@click.group("host-tokens", epilog=EXIT_HELP)
def host_tokens() -> None:
    """Host authentication tokens (your SCM credentials on a runner)."""


@host_tokens.command("list")
@click.option("--runner-id", default=None)
@click.option("--subject-id", default=None)
@api_command
def list_tokens(
    *, client: Client, as_json: bool, runner_id: str | None, subject_id: str | None
) -> None:
    """List host authentication tokens (all pages); secrets are never shown."""
    page = client.runners.configurations.host_authentication_tokens.list(
        filter={"runner_id": runner_id, "subject_id": subject_id}
    )
    emit_list(page, TOKEN_COLUMNS, as_json=as_json)


@host_tokens.command("get")
@click.argument("token_id")
@api_command
def get_token(*, client: Client, as_json: bool, token_id: str) -> None:
    """Show one host authentication token (without its secret)."""
    response = client.runners.configurations.host_authentication_tokens.retrieve(id=token_id)
    emit_message(response.token, as_json=as_json)


def _secret_value(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value == "-":
        line: str = sys.stdin.readline()
        return line.rstrip("\r\n")
    return value


_SECRET = click.option(
    "--value",
    "value",
    envvar="RUNNERKIT_HOST_TOKEN",
    show_envvar=True,
    default=None,
    callback=_secret_value,
    help="The token itself ('-' reads one line from stdin).",
)
_EXPIRES = click.option(
    "--expires-at",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="Expiry, UTC (YYYY-MM-DD[THH:MM:SS]).",
)


@host_tokens.command("create")
@click.argument("runner_id")
@click.option("--host", required=True)
@_SECRET
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
    as_json: bool,
    runner_id: str,
    host: str,
    value: str | None,
    refresh_token: str | None,
    source: str | None,
    expires_at: datetime | None,
    subject_id: str | None,
    integration_id: str | None,
    scopes: tuple[str, ...],
) -> None:
    """Store a host authentication token for RUNNER_ID; prints its id."""
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
    emit_message(response, as_json=as_json)


@host_tokens.command("update")
@click.argument("token_id")
@_SECRET
@click.option("--refresh-token", default=None)
@_EXPIRES
@click.option("--scope", "scopes", multiple=True, help="Replace the scopes (repeatable).")
@api_command
def update_token(
    *,
    client: Client,
    as_json: bool,
    token_id: str,
    value: str | None,
    refresh_token: str | None,
    expires_at: datetime | None,
    scopes: tuple[str, ...],
) -> None:
    """Change a host authentication token (only the fields given)."""
    response = client.runners.configurations.host_authentication_tokens.update(
        id=token_id,
        token=value,
        refresh_token=refresh_token,
        expires_at=expires_at,
        scopes=scopes or None,
    )
    emit_message(response, as_json=as_json)


@host_tokens.command("delete")
@click.argument("token_id")
@api_command
def delete_token(*, client: Client, as_json: bool, token_id: str) -> None:
    """Delete a host authentication token."""
    response = client.runners.configurations.host_authentication_tokens.delete(id=token_id)
    emit_message(response, as_json=as_json)


@click.group(epilog=EXIT_HELP)
def schema() -> None:
    """The configuration schema of a runner."""


@schema.command("get")
@click.argument("runner_id")
@api_command
def get_schema(*, client: Client, as_json: bool, runner_id: str) -> None:
    """Show the configuration schema of RUNNER_ID."""
    response = client.runners.configurations.schema.retrieve(runner_id=runner_id)
    emit_message(response.schema, as_json=as_json)
