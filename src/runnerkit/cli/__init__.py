"""The ``runnerkit`` command line: the server, its administration, and API resource commands."""

from __future__ import annotations

import click

from runnerkit import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runnerkit")
def main() -> None:
    """Toolkit for the Gitpod (Ona) Runner management API."""


__all__ = ["main"]
