"""The server's settings names and defaults, importable without loading the server.

The CLI reads these to build its options; everything heavy (the app, the store) is imported
only when a command runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

DB_ENV = "RUNNERKIT_DB"
ADMIN_TOKEN_ENV = "RUNNERKIT_ADMIN_TOKEN"  # noqa: S105 - a variable name, not a secret
MASTER_KEY_ENV = "RUNNERKIT_MASTER_KEY"
MASTER_KEY_FILE_ENV = "RUNNERKIT_MASTER_KEY_FILE"
DB_WAIT_ENV = "RUNNERKIT_DB_WAIT"
DEFAULT_DB_WAIT_S = 15.0
DEFAULT_DB = "runnerkit.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
SCM_API_URLS_ENV = "RUNNERKIT_SCM_API_URLS"
SCM_WEB_URLS_ENV = "RUNNERKIT_SCM_WEB_URLS"


_POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")
POSTGRES_DRIVER = "postgresql+psycopg"


@dataclass(frozen=True)
class Database:
    """Where the store lives: a SQLite file or a PostgreSQL database.

    Attributes:
        url: The SQLAlchemy URL (``sqlite:///…`` or ``postgresql+psycopg://…``); it may hold
            a password, so never print it: print ``display``.
        sqlite_path: The SQLite file, or None on PostgreSQL.
        display: The URL with any password replaced by ``***``, for messages.
    """

    url: str
    sqlite_path: Path | None
    display: str

    @property
    def is_sqlite(self) -> bool:
        """Whether the store is a SQLite file."""
        return self.sqlite_path is not None


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def parse_db(value: str) -> Database:
    """Parse a ``--db`` value: a path, ``sqlite:///PATH`` or ``postgresql[+psycopg]://…``.

    Args:
        value: What the user gave.

    Returns:
        The database; PostgreSQL URLs use the psycopg (3) driver whatever they named.

    Raises:
        ValueError: An unsupported scheme or an empty SQLite path.
    """
    scheme, sep, rest = value.partition("://")
    if not sep or os.sep in scheme or not scheme.replace("+", "").isalnum():
        path = Path(value).expanduser().resolve()
        return Database(f"sqlite:///{path}", path, str(path))
    lowered = scheme.lower()
    if lowered == "sqlite":
        if not rest.startswith("/") or rest == "/":
            msg = f"expected sqlite:///PATH (three slashes, then the file), got {value!r}"
            raise ValueError(msg)
        path = Path(rest[1:] or ".").expanduser().resolve()
        return Database(f"sqlite:///{path}", path, str(path))
    if lowered in _POSTGRES_SCHEMES:
        url = f"{POSTGRES_DRIVER}://{rest}"
        return Database(url, None, _hide_password(f"postgresql://{rest}"))
    msg = (
        f"unsupported database scheme {scheme!r}: give a file path, sqlite:///PATH or "
        "postgresql://USER@HOST/DB"
    )
    raise ValueError(msg)


def resolve_db(db: str | None, environ: Mapping[str, str] | None = None) -> Database:
    """The database: ``db``, else ``RUNNERKIT_DB``, else ``./runnerkit.db`` (see ``parse_db``)."""
    env = os.environ if environ is None else environ
    return parse_db(db or env.get(DB_ENV) or DEFAULT_DB)


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
    "DB_WAIT_ENV",
    "DEFAULT_DB",
    "DEFAULT_DB_WAIT_S",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MASTER_KEY_ENV",
    "MASTER_KEY_FILE_ENV",
    "POSTGRES_DRIVER",
    "SCM_API_URLS_ENV",
    "SCM_WEB_URLS_ENV",
    "Database",
    "parse_db",
    "parse_host_urls",
    "resolve_db",
    "scm_url_overrides",
]
