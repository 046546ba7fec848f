"""``runnerkit runners …``, ``runnerkit policies …`` and ``runnerkit context-url …``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from runnerkit.cli.resources._common import (
    EXIT_HELP,
    Column,
    EnumChoice,
    api_command,
    emit_list,
    emit_message,
    enum_name,
    parse_json_option,
    when,
)
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2

if TYPE_CHECKING:
    from runnerkit.client import Client

__all__ = ["context_url", "policies", "runners"]

PROVIDER = EnumChoice(runner_configuration_pb2.RunnerProvider.DESCRIPTOR, "RUNNER_PROVIDER_")
KIND = EnumChoice(runner_configuration_pb2.RunnerKind.DESCRIPTOR, "RUNNER_KIND_")
CHANNEL = EnumChoice(runner_pb2.RunnerReleaseChannel.DESCRIPTOR, "RUNNER_RELEASE_CHANNEL_")
ROLE = EnumChoice(runner_pb2.RunnerRole.DESCRIPTOR, "RUNNER_ROLE_")

RUNNER_COLUMNS: list[Column] = [
    ("ID", lambda r: r.runner_id),
    ("NAME", lambda r: r.name),
    ("PROVIDER", lambda r: enum_name(r, "provider", "RUNNER_PROVIDER_")),
    ("PHASE", lambda r: enum_name(r.status, "phase", "RUNNER_PHASE_")),
    ("CREATED", lambda r: when(r, "created_at")),
]
POLICY_COLUMNS: list[Column] = [
    ("GROUP", lambda p: p.group_id),
    ("ROLE", lambda p: enum_name(p, "role", "RUNNER_ROLE_")),
]


@click.group(epilog=EXIT_HELP)
def runners() -> None:
    """Runners: list, get, create, update, delete, and their tokens."""


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
    as_json: bool,
    providers: tuple[str, ...],
    kinds: tuple[str, ...],
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
    emit_list(items, RUNNER_COLUMNS, as_json=as_json)


@runners.command("get")
@click.argument("runner_id")
@api_command
def get_runner(*, client: Client, as_json: bool, runner_id: str) -> None:
    """Show one runner."""
    emit_message(client.runners.retrieve(runner_id=runner_id).runner, as_json=as_json)


def _configuration(
    region: str | None, release_channel: str | None, auto_update: bool | None
) -> dict[str, Any]:
    return {"region": region, "release_channel": release_channel, "auto_update": auto_update}


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
@click.option("--kind", type=KIND, default=None, help="Kind, for providers-less runners.")
@click.option("--runner-manager-id", default=None, help="Required for managed runners.")
@click.option("--region", default=None)
@click.option("--release-channel", type=CHANNEL, default=None)
@click.option("--auto-update/--no-auto-update", default=None)
@click.option("--spec", "spec_json", default=None, help="Full RunnerSpec as JSON.")
@api_command
def create_runner(
    *,
    client: Client,
    as_json: bool,
    name: str,
    provider: str | None,
    kind: str | None,
    runner_manager_id: str | None,
    region: str | None,
    release_channel: str | None,
    auto_update: bool | None,
    spec_json: str | None,
) -> None:
    """Register a runner; prints it and its single-use exchange token."""
    spec = _merge(
        parse_json_option(spec_json, "--spec"),
        _configuration(region, release_channel, auto_update),
    )
    response = client.runners.create(
        name=name, provider=provider, kind=kind, runner_manager_id=runner_manager_id, spec=spec
    )
    emit_message(response, as_json=as_json)


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
    as_json: bool,
    runner_id: str,
    name: str | None,
    release_channel: str | None,
    auto_update: bool | None,
    spec_json: str | None,
) -> None:
    """Change a runner's name or spec (only the fields given)."""
    spec = _merge(
        parse_json_option(spec_json, "--spec"), _configuration(None, release_channel, auto_update)
    )
    emit_message(client.runners.update(runner_id=runner_id, name=name, spec=spec), as_json=as_json)


@runners.command("delete")
@click.argument("runner_id")
@click.option("--force", is_flag=True, help="Delete even if environments remain.")
@api_command
def delete_runner(*, client: Client, as_json: bool, runner_id: str, force: bool) -> None:
    """Delete a runner and everything that belongs to it."""
    emit_message(client.runners.delete(runner_id=runner_id, force=force), as_json=as_json)


@runners.command("token")
@click.argument("runner_id")
@api_command
def runner_token(*, client: Client, as_json: bool, runner_id: str) -> None:
    """Issue a new single-use exchange token for a runner."""
    emit_message(client.runners.create_runner_token(runner_id=runner_id), as_json=as_json)


@runners.command("logs-token")
@click.argument("runner_id")
@api_command
def logs_token(*, client: Client, as_json: bool, runner_id: str) -> None:
    """Issue a one-hour access token for a runner's logs."""
    emit_message(client.runners.create_logs_token(runner_id=runner_id), as_json=as_json)


@runners.command("check-auth")
@click.option("--host", required=True, help="SCM host, e.g. github.com.")
@click.option("--runner-id", default=None)
@api_command
def check_auth(*, client: Client, as_json: bool, host: str, runner_id: str | None) -> None:
    """Check whether you are authenticated for an SCM host on a runner."""
    response = client.runners.check_authentication_for_host(host=host, runner_id=runner_id)
    emit_message(response, as_json=as_json)


@click.group(epilog=EXIT_HELP)
def policies() -> None:
    """Runner policies: which group has which role on a runner."""


@policies.command("list")
@click.argument("runner_id")
@api_command
def list_policies(*, client: Client, as_json: bool, runner_id: str) -> None:
    """List the group policies of a runner."""
    emit_list(client.runners.policies.list(runner_id=runner_id), POLICY_COLUMNS, as_json=as_json)


@policies.command("create")
@click.argument("runner_id")
@click.argument("group_id")
@click.option("--role", type=ROLE, required=True)
@api_command
def create_policy(
    *, client: Client, as_json: bool, runner_id: str, group_id: str, role: str
) -> None:
    """Give GROUP_ID a role on RUNNER_ID."""
    response = client.runners.policies.create(runner_id=runner_id, group_id=group_id, role=role)
    emit_message(response.policy, as_json=as_json)


@policies.command("update")
@click.argument("runner_id")
@click.argument("group_id")
@click.option("--role", type=ROLE, required=True)
@api_command
def update_policy(
    *, client: Client, as_json: bool, runner_id: str, group_id: str, role: str
) -> None:
    """Change the role of GROUP_ID on RUNNER_ID."""
    response = client.runners.policies.update(runner_id=runner_id, group_id=group_id, role=role)
    emit_message(response.policy, as_json=as_json)


@policies.command("delete")
@click.argument("runner_id")
@click.argument("group_id")
@api_command
def delete_policy(*, client: Client, as_json: bool, runner_id: str, group_id: str) -> None:
    """Remove the policy of GROUP_ID from RUNNER_ID."""
    response = client.runners.policies.delete(runner_id=runner_id, group_id=group_id)
    emit_message(response, as_json=as_json)


@click.group("context-url", epilog=EXIT_HELP)
def context_url() -> None:
    """Context URLs (repository, branch, commit, PR, issue URLs)."""


@context_url.command("parse")
@click.argument("url")
@click.option("--runner-id", default=None, help="Resolve hosts of this runner's integrations.")
@api_command
def parse(*, client: Client, as_json: bool, url: str, runner_id: str | None) -> None:
    """Parse URL into host, owner, repository, branch, pull request or issue."""
    response = client.runners.parse_context_url(context_url=url, runner_id=runner_id)
    emit_message(response, as_json=as_json)
