"""``runnerkit environment-classes …``: the environment classes of runners."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runnerkit.cli.resources._common import EXIT_HELP, api_command, require_change
from runnerkit.cli.resources._output import Column, emit_list, emit_message
from runnerkit.cli.resources._types import key_values

if TYPE_CHECKING:
    from runnerkit.client import Client

__all__ = ["environment_classes"]

CLASS_COLUMNS: list[Column] = [
    ("ID", lambda c: c.id),
    ("RUNNER", lambda c: c.runner_id),
    ("NAME", lambda c: c.display_name),
    ("ENABLED", lambda c: c.enabled),
    ("CONFIGURATION", lambda c: ", ".join(f"{v.key}={v.value}" for v in c.configuration)),
]
_CONFIG = click.option("--config", "config", multiple=True, help="KEY=VALUE (repeatable).")


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
    output: str,
    runner_ids: tuple[str, ...],
    enabled: bool | None,
    can_create: bool | None,
) -> None:
    """List environment classes (all pages)."""
    page = client.runners.configurations.environment_classes.list(
        filter={"runner_ids": runner_ids, "enabled": enabled, "can_create_environments": can_create}
    )
    emit_list(page, CLASS_COLUMNS, output=output)


@environment_classes.command("get")
@click.argument("environment_class_id")
@api_command
def get_class(*, client: Client, output: str, environment_class_id: str) -> None:
    """Show one environment class."""
    response = client.runners.configurations.environment_classes.retrieve(
        environment_class_id=environment_class_id
    )
    emit_message(response.environment_class, output=output)


@environment_classes.command("create")
@click.argument("runner_id")
@click.option("--display-name", required=True, help="3-127 characters.")
@click.option("--description", required=True, help="3-200 characters.")
@_CONFIG
@api_command
def create_class(
    *,
    client: Client,
    output: str,
    runner_id: str,
    display_name: str,
    description: str,
    config: tuple[str, ...],
) -> None:
    """Create an environment class on RUNNER_ID; prints its id."""
    response = client.runners.configurations.environment_classes.create(
        runner_id=runner_id,
        display_name=display_name,
        description=description,
        configuration=key_values(config, "--config"),
    )
    emit_message(response, output=output)


@environment_classes.command("update")
@click.argument("environment_class_id")
@click.option("--display-name", default=None)
@click.option("--description", default=None)
@click.option("--enable/--disable", "enabled", default=None)
@api_command
def update_class(
    *,
    client: Client,
    output: str,
    environment_class_id: str,
    display_name: str | None,
    description: str | None,
    enabled: bool | None,
) -> None:
    """Change an environment class (only the fields given); prints the class."""
    require_change(
        {
            "--display-name": display_name,
            "--description": description,
            "--enable/--disable": enabled,
        }
    )
    classes = client.runners.configurations.environment_classes
    classes.update(
        environment_class_id=environment_class_id,
        display_name=display_name,
        description=description,
        enabled=enabled,
    )
    response = classes.retrieve(environment_class_id=environment_class_id)
    emit_message(response.environment_class, output=output)


@environment_classes.command("validate")
@click.argument("runner_id")
@click.option("--display-name", required=True)
@click.option("--description", default=None)
@_CONFIG
@api_command
def validate_class(
    *,
    client: Client,
    output: str,
    runner_id: str,
    display_name: str,
    description: str | None,
    config: tuple[str, ...],
) -> None:
    """Check an environment class against RUNNER_ID's schema without creating it.

    Prints the problems found; exits 1 when the class is not valid.
    """
    response = client.runners.configurations.validate(
        runner_id=runner_id,
        environment_class={
            "runner_id": runner_id,
            "display_name": display_name,
            "description": description,
            "configuration": key_values(config, "--config"),
        },
    )
    emit_message(response.environment_class, output=output, always=("valid",))
    if not response.environment_class.valid:
        raise SystemExit(1)
