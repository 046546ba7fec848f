"""The ``runnerkit`` command line: the server, its administration, and API resource commands.

The resource commands need only the base install. ``serve`` and ``admin`` need the server's
packages (``pip install 'runnerkit[server]'``); without them they say so in one line.

Each command's module is imported when the command is first looked up: ``runnerkit serve``
loads neither the client nor the resource commands (a server's memory), ``--help`` and shell
completion load them all.
"""

from __future__ import annotations

import importlib
from typing import Any

import click
from click.shell_completion import get_completion_class

from runnerkit import __version__

__all__ = ["SERVER_COMMANDS", "main"]

SERVER_COMMANDS = frozenset({"serve", "admin"})
"""Commands that run the reference server's code (the ``server`` extra)."""
SERVER_EXTRA_HINT = "pip install 'runnerkit[server]'"

# Command name → "module:attribute" of the click command (a test checks the names).
_LAZY_COMMANDS = {
    "serve": "runnerkit.cli.serve:serve",
    "admin": "runnerkit.cli.admin:admin",
    "runners": "runnerkit.cli.resources.runners:runners",
    "policies": "runnerkit.cli.resources.policies:policies",
    "environment-classes": "runnerkit.cli.resources.environment_classes:environment_classes",
    "scm-integrations": "runnerkit.cli.resources.scm_integrations:scm_integrations",
    "host-tokens": "runnerkit.cli.resources.host_tokens:host_tokens",
    "schema": "runnerkit.cli.resources.configurations:schema",
    "context-url": "runnerkit.cli.resources.scm:context_url",
}


class _Main(click.Group):
    """The root group: loads commands on first look-up; a missing server package is a hint."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted (without importing any)."""
        return sorted({*self.commands, *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, its module imported on the first look-up."""
        target = _LAZY_COMMANDS.get(cmd_name)
        if target is not None and cmd_name not in self.commands:
            module, _, attribute = target.partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

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
