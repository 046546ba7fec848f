"""The server's settings names and defaults, importable without loading the server.

The CLI reads these to build its options; everything heavy (the app, the store) is imported
only when a command runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

DB_ENV = "RUNNERKIT_DB"
ADMIN_TOKEN_ENV = "RUNNERKIT_ADMIN_TOKEN"  # noqa: S105 - a variable name, not a secret
DEFAULT_DB = "runnerkit.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def resolve_db_path(db: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """The database path: ``db``, else ``RUNNERKIT_DB``, else ``./runnerkit.db``."""
    env = os.environ if environ is None else environ
    return Path(db or env.get(DB_ENV) or DEFAULT_DB).expanduser().resolve()


__all__ = [
    "ADMIN_TOKEN_ENV",
    "DB_ENV",
    "DEFAULT_DB",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "resolve_db_path",
]
