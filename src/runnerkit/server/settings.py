"""The server's settings names and defaults, importable without loading the server.

The CLI reads these to build its options; everything heavy (the app, the store) is imported
only when a command runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

DB_ENV = "RUNNERKIT_DB"
ADMIN_TOKEN_ENV = "RUNNERKIT_ADMIN_TOKEN"  # noqa: S105 - a variable name, not a secret
DEFAULT_DB = "runnerkit.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
SCM_API_URLS_ENV = "RUNNERKIT_SCM_API_URLS"
SCM_WEB_URLS_ENV = "RUNNERKIT_SCM_WEB_URLS"


def resolve_db_path(db: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """The database path: ``db``, else ``RUNNERKIT_DB``, else ``./runnerkit.db``."""
    env = os.environ if environ is None else environ
    return Path(db or env.get(DB_ENV) or DEFAULT_DB).expanduser().resolve()


def parse_host_urls(items: Iterable[str], what: str) -> dict[str, str]:
    """``HOST=URL`` pairs (SCM base URL overrides) as a mapping; later entries win.

    Args:
        items: Entries such as ``github.com=http://127.0.0.1:9000``; blank entries are skipped.
        what: Where they came from, for errors (an option or variable name).

    Returns:
        Host (as given, lower-cased) to URL (without a trailing slash).

    Raises:
        ValueError: An entry lacks ``=``, a host, or an ``http(s)://`` URL.
    """
    result: dict[str, str] = {}
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        host, sep, url = item.partition("=")
        host, url = host.strip().lower(), url.strip()
        if not sep or not host or not url.startswith(("http://", "https://")):
            msg = f"{what}: expected HOST=URL with an http(s) URL, got {item!r}"
            raise ValueError(msg)
        result[host] = url.rstrip("/")
    return result


def scm_url_overrides(
    env_name: str, given: Iterable[str] = (), environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """SCM base URL overrides: the comma-separated variable ``env_name``, then ``given``.

    Args:
        env_name: ``SCM_API_URLS_ENV`` or ``SCM_WEB_URLS_ENV``.
        given: ``HOST=URL`` entries from the command line; they win over the variable.
        environ: Environment to read; defaults to ``os.environ``.

    Returns:
        Host to URL.

    Raises:
        ValueError: A malformed entry.
    """
    env = os.environ if environ is None else environ
    from_env = parse_host_urls(env.get(env_name, "").split(","), env_name)
    return from_env | parse_host_urls(given, "option")


__all__ = [
    "ADMIN_TOKEN_ENV",
    "DB_ENV",
    "DEFAULT_DB",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "SCM_API_URLS_ENV",
    "SCM_WEB_URLS_ENV",
    "parse_host_urls",
    "resolve_db_path",
    "scm_url_overrides",
]
