"""Wiring: open the store and master key, build ``Services``, create subjects and the first admin.

The master key comes from ``RUNNERKIT_MASTER_KEY`` (base64 of 32 bytes) or from the key file
beside the SQLite database, ``<db>.master-key``, created with mode 0600 on first start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runnerkit.server import crypto
from runnerkit.server.domain.errors import InvalidArgumentError
from runnerkit.server.domain.ids import new_id, parse_uuid
from runnerkit.server.pagination import PageTokens
from runnerkit.server.scm import SCMConfig, SCMRegistry
from runnerkit.server.service import Services, now_micros
from runnerkit.server.storage import SQLStore, open_store, sqlite_url
from runnerkit.server.storage.base import SubjectRecord
from runnerkit_proto.gitpod.v1 import identity_pb2

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    from runnerkit.server.storage.base import Store

ADMIN_NAME = "admin"
PRINCIPALS = {
    "user": identity_pb2.PRINCIPAL_USER,
    "service-account": identity_pb2.PRINCIPAL_SERVICE_ACCOUNT,
}


def master_key_file(db_path: Path) -> Path:
    """Where the master key of the database at ``db_path`` lives when not in the environment."""
    return db_path.with_name(db_path.name + ".master-key")


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
    key = crypto.load_master_key(master_key_file(db_path), environ)
    return open_store(sqlite_url(db_path)), key


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
