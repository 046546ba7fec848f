"""``runnerkit schema get``: the configuration schema of a runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runnerkit.cli.resources._common import EXIT_HELP, api_command
from runnerkit.cli.resources._output import emit_message

if TYPE_CHECKING:
    from runnerkit.client import Client

__all__ = ["schema"]


@click.group(epilog=EXIT_HELP)
def schema() -> None:
    """The configuration schema of a runner."""


@schema.command("get")
@click.argument("runner_id")
@api_command
def get_schema(*, client: Client, output: str, runner_id: str) -> None:
    """Show the configuration schema of RUNNER_ID."""
    response = client.runners.configurations.schema.retrieve(runner_id=runner_id)
    emit_message(response.schema, output=output)
