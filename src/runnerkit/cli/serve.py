"""``runnerkit serve``: the local reference server on an embedded SQLite file."""

from __future__ import annotations

import click

from runnerkit.server.settings import DB_ENV, DEFAULT_HOST, DEFAULT_PORT, resolve_db_path


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=int, help="TCP port (0: any free)."
)
@click.option(
    "--db",
    "db",
    envvar=DB_ENV,
    default=None,
    help=f"SQLite file, created or migrated on start [env {DB_ENV}; default ./runnerkit.db].",
)
def serve(host: str, port: int, db: str | None) -> None:
    """Serve the Runner API locally (Connect protocol, JSON and binary).

    On first start with an empty database it creates an admin and prints the admin's token
    (or uses RUNNERKIT_ADMIN_TOKEN). The master key that wraps runner keys comes from
    RUNNERKIT_MASTER_KEY or from the file <db>.master-key, created on first start.
    """
    from runnerkit.server.serve import run  # noqa: PLC0415 - keeps other commands fast to start

    path = resolve_db_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    run(path, host, port)
