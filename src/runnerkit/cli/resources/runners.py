"""``runnerkit runners …``: runners and their tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from runnerkit.cli.resources._common import (
    EXIT_HELP,
    api_command,
    confirm_delete,
    require_change,
)
from runnerkit.cli.resources._output import Column, emit_list, emit_message, enum_name, when
from runnerkit.cli.resources._types import EnumChoice, parse_json_option
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2

if TYPE_CHECKING:
    from runnerkit.client import Client

__all__ = ["runners"]

PROVIDER = EnumChoice(runner_configuration_pb2.RunnerProvider.DESCRIPTOR)
KIND = EnumChoice(runner_configuration_pb2.RunnerKind.DESCRIPTOR)
CHANNEL = EnumChoice(runner_pb2.RunnerReleaseChannel.DESCRIPTOR)

RUNNER_COLUMNS: list[Column] = [
    ("ID", lambda r: r.runner_id),
    ("NAME", lambda r: r.name),
    ("PROVIDER", lambda r: enum_name(r, "provider")),
    ("PHASE", lambda r: enum_name(r.status, "phase")),
    ("CREATED", lambda r: when(r, "created_at")),
]


@click.group(epilog=EXIT_HELP)
def runners() -> None:
    """Runners: list, get, create, update, delete, tokens, and SCM queries through a runner."""


@runners.command("list")
@click.option("--provider", "providers", type=PROVIDER, multiple=True, help="Filter (repeatable).")
@click.option("--kind", "kinds", type=KIND, multiple=True, help="Filter (repeatable).")
@click.option("--creator-id", "creator_ids", multiple=True, help="Filter (repeatable).")
@click.option("--page-size", type=click.IntRange(1, 100), default=None, help="Items per request.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Stop after N runners.")
@api_command
def list_runners(
    *,
    client: Client,
    output: str,
    providers: tuple[int, ...],
    kinds: tuple[int, ...],
    creator_ids: tuple[str, ...],
    page_size: int | None,
    limit: int | None,
) -> None:
    """List the runners you can see (all pages)."""
    page = client.runners.list(
        filter={"providers": providers, "kinds": kinds, "creator_ids": creator_ids},
        page_size=page_size,
    )
    items = [r for _, r in zip(range(limit), page, strict=False)] if limit else list(page)
    emit_list(items, RUNNER_COLUMNS, output=output)


@runners.command("get")
@click.argument("runner_id")
@api_command
def get_runner(*, client: Client, output: str, runner_id: str) -> None:
    """Show one runner."""
    emit_message(client.runners.retrieve(runner_id=runner_id).runner, output=output)


def _merge(spec: dict[str, Any] | None, configuration: dict[str, Any]) -> dict[str, Any] | None:
    given = {k: v for k, v in configuration.items() if v is not None}
    if not given:
        return spec
    merged = dict(spec or {})
    merged["configuration"] = {**merged.get("configuration", {}), **given}
    return merged


@runners.command("create")
@click.option("--name", required=True, help="Name shown to people.")
@click.option("--provider", type=PROVIDER, default=None, help="Implementation (implies kind).")
@click.option("--kind", type=KIND, default=None, help="Kind, for runners without a provider.")
@click.option("--runner-manager-id", default=None, help="Required for managed runners.")
@click.option("--region", default=None)
@click.option("--release-channel", type=CHANNEL, default=None)
@click.option("--auto-update/--no-auto-update", default=None)
@click.option("--spec", "spec_json", default=None, help="Full RunnerSpec as JSON.")
@api_command
def create_runner(
    *,
    client: Client,
    output: str,
    name: str,
    provider: int | None,
    kind: int | None,
    runner_manager_id: str | None,
    region: str | None,
    release_channel: int | None,
    auto_update: bool | None,
    spec_json: str | None,
) -> None:
    """Register a runner; prints it and its single-use exchange token."""
    spec = _merge(
        parse_json_option(spec_json, "--spec"),
        {"region": region, "release_channel": release_channel, "auto_update": auto_update},
    )
    response = client.runners.create(
        name=name, provider=provider, kind=kind, runner_manager_id=runner_manager_id, spec=spec
    )
    emit_message(response, output=output)


@runners.command("update")
@click.argument("runner_id")
@click.option("--name", default=None)
@click.option("--release-channel", type=CHANNEL, default=None)
@click.option("--auto-update/--no-auto-update", default=None)
@click.option("--spec", "spec_json", default=None, help="Partial spec as JSON.")
@api_command
def update_runner(
    *,
    client: Client,
    output: str,
    runner_id: str,
    name: str | None,
    release_channel: int | None,
    auto_update: bool | None,
    spec_json: str | None,
) -> None:
    """Change a runner's name or spec (only the fields given); prints the runner."""
    require_change(
        {
            "--name": name,
            "--release-channel": release_channel,
            "--auto-update/--no-auto-update": auto_update,
            "--spec": spec_json,
        }
    )
    spec = _merge(
        parse_json_option(spec_json, "--spec"),
        {"release_channel": release_channel, "auto_update": auto_update},
    )
    client.runners.update(runner_id=runner_id, name=name, spec=spec)
    emit_message(client.runners.retrieve(runner_id=runner_id).runner, output=output)


@runners.command("delete")
@click.argument("runner_id")
@click.option("--force", is_flag=True, help="Delete even if environments remain.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_command
def delete_runner(*, client: Client, output: str, runner_id: str, force: bool, yes: bool) -> None:
    """Delete a runner and everything that belongs to it (asks first unless --yes)."""
    confirm_delete(f"runner {runner_id}", yes=yes)
    emit_message(client.runners.delete(runner_id=runner_id, force=force), output=output)


@runners.command("token")
@click.argument("runner_id")
@api_command
def runner_token(*, client: Client, output: str, runner_id: str) -> None:
    """Issue a new single-use exchange token for a runner."""
    emit_message(client.runners.create_runner_token(runner_id=runner_id), output=output)


@runners.command("logs-token")
@click.argument("runner_id")
@api_command
def logs_token(*, client: Client, output: str, runner_id: str) -> None:
    """Issue a one-hour access token for a runner's logs."""
    emit_message(client.runners.create_logs_token(runner_id=runner_id), output=output)


@runners.command("check-auth")
@click.option("--host", required=True, help="SCM host, e.g. github.com.")
@click.option("--runner-id", default=None)
@api_command
def check_auth(*, client: Client, output: str, host: str, runner_id: str | None) -> None:
    """Check whether you are authenticated for an SCM host on a runner."""
    response = client.runners.check_authentication_for_host(host=host, runner_id=runner_id)
    emit_message(response, output=output)
