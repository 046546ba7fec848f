"""Wiring: open the store and master key, build ``Services``, create subjects and the first admin.

The master key (base64 of 32 bytes) comes from ``RUNNERKIT_MASTER_KEY``, else from a key file:
``--master-key-file`` / ``RUNNERKIT_MASTER_KEY_FILE``, else (SQLite only) ``<db>.master-key``
beside the database. A key file is created (mode 0600) only for a database that is new; on
PostgreSQL the key must be given (replicas share it). The database keeps a verifier of its key
(``server_meta``), so a wrong or missing key is refused at start, never replaced.

``open_database`` does the start-up work under the database's start-up lock (so replicas and
workers starting together on an empty database serialise): migrations, the key check and,
for ``serve``, the first admin.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from nacl.exceptions import CryptoError

from runnerkit.server import crypto
from runnerkit.server.domain.errors import InvalidArgumentError
from runnerkit.server.domain.ids import new_id, parse_uuid
from runnerkit.server.pagination import PageTokens
from runnerkit.server.scm import SCMConfig, SCMRegistry
from runnerkit.server.service import Services, now_micros
from runnerkit.server.settings import (
    ADMIN_TOKEN_ENV,
    DEFAULT_DB_WAIT_S,
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    Database,
    parse_db,
)
from runnerkit.server.storage import SQLStore
from runnerkit.server.storage.base import SubjectRecord
from runnerkit.server.storage.engine import (
    DatabaseUnreachableError,
    create_engine,
    migrate,
    startup_lock,
    wait_until_reachable,
)
from runnerkit_proto.gitpod.v1 import identity_pb2

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from runnerkit.server.storage.base import Store

ADMIN_NAME = "admin"
PRINCIPALS = {
    "user": identity_pb2.PRINCIPAL_USER,
    "service-account": identity_pb2.PRINCIPAL_SERVICE_ACCOUNT,
}


_VERIFIER = "master_key_verifier"


class StartupError(RuntimeError):
    """The server (or an admin command) cannot start; the message is one line for the user."""


def master_key_file(db_path: Path) -> Path:
    """Where the master key of the database at ``db_path`` lives when not in the environment."""
    return db_path.with_name(db_path.name + ".master-key")


def check_token_format(token: str, what: str) -> None:
    """Raise ``StartupError`` unless ``token`` may be a bearer token (16-512 printable chars)."""
    if not 16 <= len(token) <= 512 or not token.isprintable() or any(c.isspace() for c in token):
        msg = f"{what} must be 16-512 printable characters without spaces or control characters"
        raise StartupError(msg)


@dataclass(frozen=True)
class Opened:
    """What ``open_database`` opened.

    Attributes:
        store: The migrated store; close it when done.
        master_key: The verified master key (None for ``must_exist``: admin commands).
        admin_token: The first admin's token when it was created now, else None.
        admin_from_env: Whether ``RUNNERKIT_ADMIN_TOKEN`` is a token of the store (just made
            the first admin's, or registered before).
        admin_note: For ``serve``'s output when ``RUNNERKIT_ADMIN_TOKEN`` is set on an existing
            store but is not one of its tokens (it is not added), else None.
    """

    store: SQLStore
    master_key: crypto.MasterKey | None
    admin_token: str | None = None
    admin_from_env: bool = False
    admin_note: str | None = None


def _key_source(db: Database, key_file: Path | None, env: Mapping[str, str]) -> str | Path:
    """The key's base64 text (from the environment) or the key file to read or create."""
    encoded = env.get(MASTER_KEY_ENV)
    if encoded:
        return encoded
    given = key_file or (Path(env[MASTER_KEY_FILE_ENV]) if env.get(MASTER_KEY_FILE_ENV) else None)
    if given is not None:
        return given.expanduser().resolve()
    if db.sqlite_path is None:
        msg = (
            f"PostgreSQL needs the master key from {MASTER_KEY_ENV} or --master-key-file "
            "(every replica must use the same key; make one with "
            "`head -c 32 /dev/urandom | base64`)"
        )
        raise StartupError(msg)
    return master_key_file(db.sqlite_path)


def _load_key(source: str | Path, *, may_create: bool) -> crypto.MasterKey:
    try:
        if isinstance(source, str):
            return crypto.decode_master_key(source)
        if not source.exists():
            if not may_create:
                msg = (
                    f"the database exists but its master key file {source} is missing; give "
                    f"the key it was created with ({MASTER_KEY_ENV} or --master-key-file) — "
                    "a new key cannot read its runner keys and secrets"
                )
                raise StartupError(msg)
            crypto.create_master_key_file(source)
        return crypto.decode_master_key(source.read_text())
    except crypto.MasterKeyError as exc:
        where = MASTER_KEY_ENV if isinstance(source, str) else str(source)
        msg = f"{where}: {exc} (expected base64 of 32 bytes)"
        raise StartupError(msg) from None
    except OSError as exc:
        msg = f"cannot read the master key file: {exc}"
        raise StartupError(msg) from None


def _verify_key(store: SQLStore, key: crypto.MasterKey) -> None:
    expected = crypto.verifier(key)
    stored = store.get_meta(_VERIFIER)
    if stored is None:
        wrapped = store.any_wrapped_private_key()
        if wrapped is not None:
            try:
                key.unwrap(wrapped)
            except CryptoError:
                stored = "?"  # a database from before verifiers, made with another key
        if stored is None:
            store.set_meta(_VERIFIER, expected)
            return
    if stored != expected:
        msg = (
            "the master key does not match this database (it was created with another key); "
            f"give the right one ({MASTER_KEY_ENV} or --master-key-file)"
        )
        raise StartupError(msg)


def _admin_note(store: SQLStore, env_token: str) -> str | None:
    if store.subject_for_token(crypto.hash_token(env_token)) is not None:
        return None
    return (
        f"existing store: {ADMIN_TOKEN_ENV} is set but is not a token of this store and was NOT "
        "added (it is used only on the first start); get a token with "
        "`runnerkit admin create-token --name admin`"
    )


def open_database(
    db: Database,
    *,
    key_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    wait_s: float = DEFAULT_DB_WAIT_S,
    first_admin: bool = False,
    admin_token: str | None = None,
    must_exist: bool = False,
) -> Opened:
    """Open, migrate and check the store at ``db`` (under its start-up lock).

    Args:
        db: The database.
        key_file: ``--master-key-file``; None for the variables or the default file.
        environ: Environment for ``RUNNERKIT_MASTER_KEY[_FILE]``; defaults to ``os.environ``.
        wait_s: How long to wait for the database to accept connections.
        first_admin: Create the first admin when the store has no subjects (``serve``).
        admin_token: The first admin's token (``RUNNERKIT_ADMIN_TOKEN``); generated when None.
        must_exist: Refuse a database that does not exist yet (``runnerkit admin``).

    Returns:
        The store, its master key, and the admin token when one was created.

    Raises:
        StartupError: Unreachable or missing database, missing or wrong master key, malformed
            admin token; nothing is written then.
    """
    env = os.environ if environ is None else environ
    if admin_token is not None:
        check_token_format(admin_token, ADMIN_TOKEN_ENV)
    if db.sqlite_path is not None:
        path = db.sqlite_path
        if must_exist and (not path.exists() or path.stat().st_size == 0):
            msg = f"no database at {path} (--db or RUNNERKIT_DB names the server's database)"
            raise StartupError(msg)
        if not path.parent.is_dir():
            msg = f"the directory of the database {path} does not exist"
            raise StartupError(msg)
    # Admin commands need no key: they touch subjects and tokens only.
    source = None if must_exist else _key_source(db, key_file, env)
    engine = create_engine(db.url)
    try:
        wait_until_reachable(engine, wait_s)
        store = SQLStore(engine)
        with startup_lock(engine, db.sqlite_path):
            if must_exist and not _has_schema(engine):
                msg = f"{db.display} holds no runnerkit store (start `runnerkit serve` on it first)"
                raise StartupError(msg)
            migrate(engine)
            if source is None:
                return Opened(store, None)
            fresh = store.get_meta(_VERIFIER) is None and store.is_empty()
            key = _load_key(source, may_create=fresh)
            _verify_key(store, key)
            if not first_admin:
                return Opened(store, key)
            created = bootstrap_admin(store, admin_token)
            if admin_token is None:
                return Opened(store, key, created)
            note = None if created is not None else _admin_note(store, admin_token)
            return Opened(store, key, created, admin_from_env=note is None, admin_note=note)
    except DatabaseUnreachableError as exc:
        engine.dispose()
        raise StartupError(f"{db.display}: {exc}") from None
    except (OSError, sa.exc.SQLAlchemyError) as exc:  # e.g. a read-only file, a lost connection
        engine.dispose()
        orig = getattr(exc, "orig", None) or exc
        reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:300]
        raise StartupError(f"{db.display}: {reason}") from None
    except BaseException:
        engine.dispose()
        raise


def _has_schema(engine: sa.Engine) -> bool:
    return sa.inspect(engine).has_table("alembic_version")


def open_sqlite(
    db_path: Path, environ: Mapping[str, str] | None = None
) -> tuple[SQLStore, crypto.MasterKey]:
    """Open (creating or migrating) the SQLite store at ``db_path`` and its master key.

    Args:
        db_path: The database file; its directory must exist.
        environ: Environment for ``RUNNERKIT_MASTER_KEY``; defaults to ``os.environ``.

    Returns:
        The store and the master key.
    """
    opened = open_database(parse_db(str(db_path)), environ=environ)
    assert opened.master_key is not None  # noqa: S101 - open_database loads it unless must_exist
    return opened.store, opened.master_key


def build_services(
    store: Store, master_key: crypto.MasterKey, scm: SCMConfig | None = None
) -> Services:
    """Everything the handlers need.

    Args:
        store: The store.
        master_key: The server master key (wraps runner keys, signs page tokens).
        scm: How to reach SCM hosts (base URL overrides, timeout); None for the defaults.

    Returns:
        The ``Services`` bundle; close ``services.scm`` when the server stops.
    """
    return Services(
        store=store,
        master_key=master_key,
        page_tokens=PageTokens(master_key.derive("runnerkit page tokens v1")),
        scm=SCMRegistry(scm),
        clock=now_micros,
    )


def create_subject(
    store: Store,
    *,
    name: str,
    principal: str = "user",
    org_admin: bool = False,
    runner_creator: bool = False,
    group_ids: Iterable[str] = (),
    token: str | None = None,
) -> tuple[str, str]:
    """Create a user or service account with one bearer token.

    Args:
        store: The store.
        name: Display name (1-127 characters).
        principal: ``user`` or ``service-account``.
        org_admin: Whether the subject administers the organisation (everything).
        runner_creator: Whether the subject may create runners.
        group_ids: Group UUIDs the subject belongs to.
        token: The bearer token to register; a fresh one when None.

    Returns:
        The new subject's id and its bearer token.

    Raises:
        InvalidArgumentError: A bad name, principal, group id or token.
    """
    if not name.strip() or len(name) > 127:
        raise InvalidArgumentError("name", "1-127 characters")
    if principal not in PRINCIPALS:
        raise InvalidArgumentError("principal", f"one of {', '.join(PRINCIPALS)}")
    groups = frozenset(parse_uuid(g, "group_id") for g in group_ids)
    if token is not None and (len(token) < 16 or len(token) > 512 or not token.isprintable()):
        raise InvalidArgumentError("token", "16-512 printable characters")
    secret = token if token is not None else crypto.new_token(crypto.API_TOKEN_PREFIX)
    subject = SubjectRecord(
        id=new_id(),
        principal=PRINCIPALS[principal],
        name=name,
        org_admin=org_admin,
        runner_creator=runner_creator,
        group_ids=groups,
    )
    store.create_subject(subject, [crypto.hash_token(secret)], now_micros())
    return subject.id, secret


def bootstrap_admin(store: Store, token: str | None = None) -> str | None:
    """Create the first admin when the store has no subjects yet.

    Args:
        store: The store.
        token: The admin's bearer token (``RUNNERKIT_ADMIN_TOKEN``); generated when None.

    Returns:
        The admin's token when one was created now, else None.
    """
    if store.count_subjects() > 0:
        return None
    _, secret = create_subject(
        store, name=ADMIN_NAME, org_admin=True, runner_creator=True, token=token
    )
    return secret
