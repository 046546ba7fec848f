"""``runnerkit scm-integrations …``: SCM integrations (GitHub, GitLab, …) of runners."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runnerkit.cli.resources._common import (
    EXIT_HELP,
    api_command,
    confirm_delete,
    require_change,
)
from runnerkit.cli.resources._output import Column, emit_list, emit_message

if TYPE_CHECKING:
    from runnerkit.client import Client

__all__ = ["scm_integrations"]

SCM_COLUMNS: list[Column] = [
    ("ID", lambda i: i.id),
    ("RUNNER", lambda i: i.runner_id),
    ("SCM", lambda i: i.scm_id),
    ("HOST", lambda i: i.host),
    ("OAUTH", lambda i: i.HasField("oauth")),
    ("PAT", lambda i: i.pat),
]
_OAUTH_SECRET = click.option(
    "--oauth-client-secret",
    envvar="RUNNERKIT_OAUTH_CLIENT_SECRET",
    show_envvar=True,
    default=None,
    help="OAuth client secret (plain text; sealed by the server).",
)
_SCM_ID = click.option(
    "--scm-id", required=True, help="github, gitlab, bitbucket, azuredevops (see `schema get`)."
)


@click.group("scm-integrations", epilog=EXIT_HELP)
def scm_integrations() -> None:
    """SCM integrations (GitHub, GitLab, …) of runners."""


@scm_integrations.command("list")
@click.option("--runner-id", "runner_ids", multiple=True, help="Filter (repeatable).")
@api_command
def list_integrations(*, client: Client, output: str, runner_ids: tuple[str, ...]) -> None:
    """List SCM integrations (all pages)."""
    page = client.runners.configurations.scm_integrations.list(filter={"runner_ids": runner_ids})
    emit_list(page, SCM_COLUMNS, output=output)


@scm_integrations.command("get")
@click.argument("integration_id")
@api_command
def get_integration(*, client: Client, output: str, integration_id: str) -> None:
    """Show one SCM integration."""
    response = client.runners.configurations.scm_integrations.retrieve(id=integration_id)
    emit_message(response.integration, output=output)


@scm_integrations.command("create")
@click.argument("runner_id")
@_SCM_ID
@click.option("--host", required=True)
@click.option("--oauth-client-id", default=None)
@_OAUTH_SECRET
@click.option("--pat/--no-pat", default=None, help="Allow personal access tokens.")
@api_command
def create_integration(
    *,
    client: Client,
    output: str,
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
    emit_message(response, output=output)


@scm_integrations.command("update")
@click.argument("integration_id")
@click.option("--oauth-client-id", default=None, help="Empty string removes the OAuth config.")
@_OAUTH_SECRET
@click.option("--pat/--no-pat", default=None)
@api_command
def update_integration(
    *,
    client: Client,
    output: str,
    integration_id: str,
    oauth_client_id: str | None,
    oauth_client_secret: str | None,
    pat: bool | None,
) -> None:
    """Change an SCM integration (only the fields given); prints the integration."""
    require_change(
        {
            "--oauth-client-id": oauth_client_id,
            "--oauth-client-secret": oauth_client_secret,
            "--pat/--no-pat": pat,
        }
    )
    integrations = client.runners.configurations.scm_integrations
    integrations.update(
        id=integration_id,
        oauth_client_id=oauth_client_id,
        oauth_plaintext_client_secret=oauth_client_secret,
        pat=pat,
    )
    emit_message(integrations.retrieve(id=integration_id).integration, output=output)


@scm_integrations.command("delete")
@click.argument("integration_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_command
def delete_integration(*, client: Client, output: str, integration_id: str, yes: bool) -> None:
    """Delete an SCM integration (asks first unless --yes)."""
    confirm_delete(f"SCM integration {integration_id}", yes=yes)
    response = client.runners.configurations.scm_integrations.delete(id=integration_id)
    emit_message(response, output=output)


@scm_integrations.command("validate")
@click.argument("runner_id")
@_SCM_ID
@click.option("--host", required=True)
@click.option("--integration-id", default=None, help="When checking changes to an existing one.")
@click.option("--oauth-client-id", default=None)
@_OAUTH_SECRET
@click.option("--pat/--no-pat", default=None)
@api_command
def validate_integration(
    *,
    client: Client,
    output: str,
    runner_id: str,
    scm_id: str,
    host: str,
    integration_id: str | None,
    oauth_client_id: str | None,
    oauth_client_secret: str | None,
    pat: bool | None,
) -> None:
    """Check SCM integration settings against RUNNER_ID's schema without storing them.

    Prints the problems found; exits 1 when the settings are not valid.
    """
    response = client.runners.configurations.validate(
        runner_id=runner_id,
        scm_integration={
            "id": integration_id,
            "scm_id": scm_id,
            "host": host,
            "oauth_client_id": oauth_client_id,
            "oauth_plaintext_client_secret": oauth_client_secret,
            "pat": pat,
        },
    )
    emit_message(response.scm_integration, output=output, always=("valid",))
    if not response.scm_integration.valid:
        raise SystemExit(1)
