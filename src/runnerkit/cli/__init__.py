"""The ``runnerkit`` command line: the server, its administration, and API resource commands."""

from __future__ import annotations

import click

from runnerkit import __version__
from runnerkit.cli.admin import admin
from runnerkit.cli.resources import COMMANDS as RESOURCE_COMMANDS
from runnerkit.cli.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runnerkit")
def main() -> None:
    """Toolkit for the Gitpod (Ona) Runner management API."""


main.add_command(serve)
main.add_command(admin)
for _command in RESOURCE_COMMANDS:
    main.add_command(_command)

__all__ = ["main"]
