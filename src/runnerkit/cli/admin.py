"""``runnerkit admin``: users, service accounts, tokens and groups of a local server's store.

Works directly on the server's database (SQLite file or PostgreSQL), also while the server
runs. It refuses a database that does not exist yet: start ``runnerkit serve`` on it first.
Groups are plain UUIDs: ``new-group`` makes one, runner policies and memberships name it.
No command here needs the master key (they touch subjects and bearer tokens only).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from runnerkit.cli.serve import ADMIN_DB_HELP, db_option
from runnerkit.server.domain.errors import DomainError
from runnerkit.server.domain.ids import new_id, parse_uuid

if TYPE_CHECKING:
    from runnerkit.server.settings import Database
    from runnerkit.server.storage import SQLStore


_db_option = db_option(ADMIN_DB_HELP)


def _open(db: Database) -> SQLStore:
    """The store of the existing database ``db`` (imported here: the server is slow to import)."""
    from runnerkit.server.bootstrap import StartupError, open_database  # noqa: PLC0415

    try:
        return open_database(db, must_exist=True).store
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def admin() -> None:
    """Manage subjects, tokens and group memberships of a local server.

    Lost the admin token? `runnerkit admin list-users` shows the subjects;
    `runnerkit admin create-token --name admin` makes a new token for the first admin.
    """


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
    db: Database,
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


def _subject_named(store: SQLStore, name: str) -> str:
    matches = [s.subject.id for s in store.list_subjects() if s.subject.name == name]
    if not matches:
        msg = f"no subject named {name!r} (see `runnerkit admin list-users`)"
        raise click.UsageError(msg)
    if len(matches) > 1:
        msg = f"{len(matches)} subjects are named {name!r}: give SUBJECT_ID ({', '.join(matches)})"
        raise click.UsageError(msg)
    return matches[0]


@admin.command("create-token")
@click.argument("subject_id", required=False)
@click.option("--name", help="The subject's name instead of SUBJECT_ID (e.g. admin).")
@_db_option
def create_token(subject_id: str | None, name: str | None, db: Database) -> None:
    """Create another bearer token for SUBJECT_ID (or --name); print it (shown only once)."""
    from runnerkit.server.crypto import API_TOKEN_PREFIX, hash_token, new_token  # noqa: PLC0415
    from runnerkit.server.service import now_micros  # noqa: PLC0415

    if (subject_id is None) == (name is None):
        raise click.UsageError("give SUBJECT_ID or --name (one of them)")
    store = _open(db)
    token = new_token(API_TOKEN_PREFIX)
    try:
        target = _subject_named(store, name) if name is not None else subject_id
        assert target is not None  # noqa: S101 - one of the two is given
        store.add_api_token(parse_uuid(target, "subject_id"), hash_token(token), now_micros())
    except DomainError as exc:
        raise click.UsageError(exc.message) from exc
    finally:
        store.close()
    click.echo(f"subject_id: {target}")
    click.echo(f"token: {token}")


@admin.command("revoke-token")
@click.argument("token", required=False)
@click.option(
    "--subject",
    "subject_id",
    metavar="SUBJECT_ID",
    help="Revoke every token of this subject instead of one TOKEN.",
)
@_db_option
def revoke_token(token: str | None, subject_id: str | None, db: Database) -> None:
    """Revoke one bearer TOKEN ("-": read it from stdin), or all tokens of --subject.

    The subject stays (give it a new token with create-token). A running server may still
    accept a revoked token for up to 2 seconds (its token cache).
    """
    from runnerkit.server.crypto import hash_token  # noqa: PLC0415

    if (token is None) == (subject_id is None):
        raise click.UsageError("give TOKEN or --subject SUBJECT_ID (one of them)")
    if token == "-":  # noqa: S105 - the stdin marker
        token = sys.stdin.readline().strip()
    store = _open(db)
    try:
        if token is not None:
            owner = store.revoke_api_token(hash_token(token))
            if owner is None:
                raise click.ClickException("no such token in this store (nothing revoked)")
            click.echo(f"revoked 1 token of subject {owner}")
        else:
            assert subject_id is not None  # noqa: S101 - one of the two is given
            count = store.revoke_subject_tokens(parse_uuid(subject_id, "subject_id"))
            click.echo(f"revoked {count} token(s) of subject {subject_id}")
    except DomainError as exc:
        raise click.UsageError(exc.message) from exc
    finally:
        store.close()


@admin.command("list-users")
@_db_option
def list_users(db: Database) -> None:
    """List users and service accounts: id, kind, name, roles, token count, groups."""
    from runnerkit.server.bootstrap import PRINCIPALS  # noqa: PLC0415

    store = _open(db)
    try:
        subjects = store.list_subjects()
    finally:
        store.close()
    kinds: dict[int, str] = {int(value): kind for kind, value in PRINCIPALS.items()}
    click.echo("SUBJECT_ID\tKIND\tNAME\tROLES\tTOKENS\tGROUPS")
    for summary in subjects:
        s = summary.subject
        roles = ",".join(
            r for r, on in (("org-admin", s.org_admin), ("runner-creator", s.runner_creator)) if on
        )
        click.echo(
            f"{s.id}\t{kinds.get(s.principal, str(s.principal))}\t{s.name}\t{roles or '-'}\t"
            f"{summary.token_count}\t{','.join(sorted(s.group_ids)) or '-'}"
        )


@admin.command("add-group")
@click.argument("subject_id")
@click.argument("group_id")
@_db_option
def add_group(subject_id: str, group_id: str, db: Database) -> None:
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
