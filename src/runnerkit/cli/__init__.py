"""The ``runnerkit`` command line: the server, its administration, and API resource commands.

The resource commands need only the base install. ``serve`` and ``admin`` need the server's
packages (``pip install 'runnerkit[server]'``); without them they say so in one line.
"""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import get_completion_class

from runnerkit import __version__
from runnerkit.cli.admin import admin
from runnerkit.cli.resources import COMMANDS as RESOURCE_COMMANDS
from runnerkit.cli.serve import serve

__all__ = ["SERVER_COMMANDS", "main"]

SERVER_COMMANDS = frozenset({"serve", "admin"})
"""Commands that run the reference server's code (the ``server`` extra)."""
SERVER_EXTRA_HINT = "pip install 'runnerkit[server]'"


class _Main(click.Group):
    """The root group: turns a missing server package into a one-line hint."""

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401 - click's own signature
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            command = ctx.invoked_subcommand or ""
            missing = (exc.name or "").partition(".")[0]
            if command not in SERVER_COMMANDS or missing in ("", "runnerkit"):
                raise
            click.echo(
                f"error: `runnerkit {command}` needs the server, which is not installed "
                f"(no module {missing!r}): {SERVER_EXTRA_HINT}",
                err=True,
            )
            ctx.exit(1)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runnerkit")
def main() -> None:
    """Toolkit for the Gitpod (Ona) Runner management API.

    Resource commands (runners, policies, …) talk to an API given by --base-url / GITPOD_BASE_URL
    with --token / GITPOD_API_KEY. `serve` and `admin` run the local reference server (install
    it with: pip install 'runnerkit[server]').
    """


@main.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    bash:  eval "$(runnerkit completion bash)"   (e.g. in ~/.bashrc)
    zsh:   eval "$(runnerkit completion zsh)"    (e.g. in ~/.zshrc)
    fish:  runnerkit completion fish > ~/.config/fish/completions/runnerkit.fish
    """  # noqa: D301 - \b is click's "keep these lines as they are" marker
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"no completion for {shell}")
    click.echo(cls(main, {}, "runnerkit", "_RUNNERKIT_COMPLETE").source())


main.add_command(serve)
main.add_command(admin)
for _command in RESOURCE_COMMANDS:
    main.add_command(_command)
