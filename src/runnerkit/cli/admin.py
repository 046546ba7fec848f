"""``runnerkit admin``: users, service accounts, tokens and groups of a local server's store.

Works directly on the SQLite file (also while the server runs: SQLite serialises writers).
Groups are plain UUIDs: ``new-group`` makes one, runner policies and memberships name it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runnerkit.server.domain.errors import DomainError
from runnerkit.server.domain.ids import new_id, parse_uuid
from runnerkit.server.settings import DB_ENV, resolve_db_path

if TYPE_CHECKING:
    from runnerkit.server.storage import SQLStore


def _open(db: str | None) -> SQLStore:
    """The store of the database ``db`` (imported here: the server is slow to import)."""
    from runnerkit.server.bootstrap import open_sqlite  # noqa: PLC0415

    store, _ = open_sqlite(resolve_db_path(db))
    return store


_db_option = click.option(
    "--db", "db", envvar=DB_ENV, default=None, help=f"SQLite file [env {DB_ENV}; ./runnerkit.db]."
)


@click.group()
def admin() -> None:
    """Manage subjects, tokens and group memberships of a local server."""


@admin.command("create-user")
@click.argument("name")
@click.option("--service-account", is_flag=True, help="Create a service account, not a user.")
@click.option("--org-admin", is_flag=True, help="Organisation admin: may do everything.")
@click.option("--runner-creator", is_flag=True, help="May create runners (and administers them).")
@click.option("--group", "groups", multiple=True, help="Group UUID to join (repeatable).")
@_db_option
def create_user(  # noqa: PLR0917 - click passes options positionally
    name: str,
    service_account: bool,
    org_admin: bool,
    runner_creator: bool,
    groups: tuple[str, ...],
    db: str | None,
) -> None:
    """Create a user (or service account) NAME; print its id and bearer token."""
    from runnerkit.server.bootstrap import create_subject  # noqa: PLC0415

    store = _open(db)
    try:
        subject_id, token = create_subject(
            store,
            name=name,
            principal="service-account" if service_account else "user",
            org_admin=org_admin,
            runner_creator=runner_creator,
            group_ids=groups,
        )
    except DomainError as exc:
        raise click.UsageError(exc.message) from exc
    finally:
        store.close()
    click.echo(f"subject_id: {subject_id}")
    click.echo(f"token: {token}")


@admin.command("create-token")
@click.argument("subject_id")
@_db_option
def create_token(subject_id: str, db: str | None) -> None:
    """Create another bearer token for SUBJECT_ID; print it (shown only once)."""
    from runnerkit.server.crypto import API_TOKEN_PREFIX, hash_token, new_token  # noqa: PLC0415
    from runnerkit.server.service import now_micros  # noqa: PLC0415

    store = _open(db)
    token = new_token(API_TOKEN_PREFIX)
    try:
        store.add_api_token(parse_uuid(subject_id, "subject_id"), hash_token(token), now_micros())
    except DomainError as exc:
        raise click.UsageError(exc.message) from exc
    finally:
        store.close()
    click.echo(f"token: {token}")


@admin.command("add-group")
@click.argument("subject_id")
@click.argument("group_id")
@_db_option
def add_group(subject_id: str, group_id: str, db: str | None) -> None:
    """Add SUBJECT_ID to the group GROUP_ID (a UUID)."""
    store = _open(db)
    try:
        store.add_group_membership(
            parse_uuid(subject_id, "subject_id"), parse_uuid(group_id, "group_id")
        )
    except DomainError as exc:
        raise click.UsageError(exc.message) from exc
    finally:
        store.close()
    click.echo(f"added {subject_id} to group {group_id}")


@admin.command("new-group")
def new_group() -> None:
    """Print a fresh group id (groups are UUIDs named by memberships and runner policies)."""
    click.echo(new_id())
