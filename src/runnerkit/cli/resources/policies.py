"""``runnerkit policies …``: which group has which role on a runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runnerkit.cli.resources._common import EXIT_HELP, api_command, confirm_delete
from runnerkit.cli.resources._output import Column, emit_list, emit_message, enum_name
from runnerkit.cli.resources._types import EnumChoice
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from runnerkit.client import Client

__all__ = ["policies"]

ROLE = EnumChoice(runner_pb2.RunnerRole.DESCRIPTOR)
POLICY_COLUMNS: list[Column] = [
    ("GROUP", lambda p: p.group_id),
    ("ROLE", lambda p: enum_name(p, "role")),
]


@click.group(epilog=EXIT_HELP)
def policies() -> None:
    """Runner policies: which group has which role on a runner."""


@policies.command("list")
@click.argument("runner_id")
@api_command
def list_policies(*, client: Client, output: str, runner_id: str) -> None:
    """List the group policies of a runner."""
    emit_list(client.runners.policies.list(runner_id=runner_id), POLICY_COLUMNS, output=output)


@policies.command("create")
@click.argument("runner_id")
@click.argument("group_id")
@click.option("--role", type=ROLE, required=True)
@api_command
def create_policy(*, client: Client, output: str, runner_id: str, group_id: str, role: int) -> None:
    """Give GROUP_ID a role on RUNNER_ID."""
    response = client.runners.policies.create(runner_id=runner_id, group_id=group_id, role=role)
    emit_message(response.policy, output=output)


@policies.command("update")
@click.argument("runner_id")
@click.argument("group_id")
@click.option("--role", type=ROLE, required=True)
@api_command
def update_policy(*, client: Client, output: str, runner_id: str, group_id: str, role: int) -> None:
    """Change the role of GROUP_ID on RUNNER_ID; prints the policy."""
    response = client.runners.policies.update(runner_id=runner_id, group_id=group_id, role=role)
    emit_message(response.policy, output=output)


@policies.command("delete")
@click.argument("runner_id")
@click.argument("group_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_command
def delete_policy(*, client: Client, output: str, runner_id: str, group_id: str, yes: bool) -> None:
    """Remove the policy of GROUP_ID from RUNNER_ID (asks first unless --yes)."""
    confirm_delete(f"the policy of group {group_id} on runner {runner_id}", yes=yes)
    response = client.runners.policies.delete(runner_id=runner_id, group_id=group_id)
    emit_message(response, output=output)
