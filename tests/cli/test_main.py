"""The root ``runnerkit`` group: commands load on first look-up, under their own names."""

from __future__ import annotations

import subprocess
import sys

import click

from runnerkit.cli import _LAZY_COMMANDS, SERVER_COMMANDS, main


def test_every_command_is_listed_and_named_as_looked_up():
    ctx = click.Context(main)
    names = main.list_commands(ctx)
    assert names == sorted({*_LAZY_COMMANDS, "completion"})
    assert set(names) >= SERVER_COMMANDS
    for name in names:
        command = main.get_command(ctx, name)
        assert command is not None
        assert command.name == name
    assert main.get_command(ctx, "no-such-command") is None


def test_serve_loads_neither_the_client_nor_the_resource_commands():
    """``python -m runnerkit.server`` and ``runnerkit serve`` stay lean (server memory)."""
    code = (
        "import sys, click\n"
        "from runnerkit.cli import main\n"
        "import runnerkit.server.__main__\n"
        "main.get_command(click.Context(main), 'serve')\n"
        "print(sorted(m for m in sys.modules"
        " if m.startswith(('runnerkit.client', 'runnerkit.cli.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['runnerkit.cli.serve']"
