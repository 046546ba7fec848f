"""SCM queries made through a runner, and ``runnerkit context-url parse``.

``runnerkit runners search-repositories``, ``scm-organizations`` and ``check-access`` use your host authentication token for the SCM host on that runner (``runnerkit
host-tokens create``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from runnerkit.cli.resources._common import EXIT_HELP, api_command
from runnerkit.cli.resources._output import Column, emit_list, emit_message
from runnerkit.cli.resources._types import EnumChoice
from runnerkit.cli.resources.runners import runners
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from google.protobuf.message import Message

    from runnerkit.client import Client

__all__ = ["context_url"]

MODE = EnumChoice(runner_pb2.SearchMode.DESCRIPTOR)
REPOSITORY_COLUMNS: list[Column] = [("NAME", lambda r: r.name), ("URL", lambda r: r.url)]
ORGANIZATION_COLUMNS: list[Column] = [("NAME", lambda o: o.name), ("URL", lambda o: o.url)]
_PAGE_SIZE = click.option(
    "--page-size", type=click.IntRange(1, 100), default=None, help="Items per request."
)
_LIMIT = click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Stop after N items."
)


def _all_pages(
    call: Callable[..., Any], field: str, limit: int | None, **params: object
) -> Iterator[Message]:
    token = ""
    seen = 0
    while True:
        response = call(**params, token=token or None)
        for item in getattr(response, field):
            if limit is not None and seen >= limit:
                return
            seen += 1
            yield item
        token = response.pagination.next_token
        if not token:
            return


@runners.command("search-repositories")
@click.argument("runner_id")
@click.option("--scm-host", required=True, help="SCM host, e.g. github.com.")
@click.option("--query", default="", help="Search text (empty: all repositories you can read).")
@click.option("--mode", type=MODE, default=None, help="How the query is read.")
@_PAGE_SIZE
@_LIMIT
@api_command
def search_repositories(
    *,
    client: Client,
    output: str,
    runner_id: str,
    scm_host: str,
    query: str,
    mode: int | None,
    page_size: int | None,
    limit: int | None,
) -> None:
    """Search the repositories you can read on an SCM host, through RUNNER_ID (all pages)."""
    items = _all_pages(
        client.runners.search_repositories,
        "repositories",
        limit,
        runner_id=runner_id,
        scm_host=scm_host,
        search_string=query,
        search_mode=mode,
        page_size=page_size,
    )
    emit_list(list(items), REPOSITORY_COLUMNS, output=output)


@runners.command("scm-organizations")
@click.argument("runner_id")
@click.option("--scm-host", required=True, help="SCM host, e.g. github.com.")
@click.option("--query", default=None, help="Only organisations whose name contains this.")
@_PAGE_SIZE
@_LIMIT
@api_command
def scm_organizations(
    *,
    client: Client,
    output: str,
    runner_id: str,
    scm_host: str,
    query: str | None,
    page_size: int | None,
    limit: int | None,
) -> None:
    """List your organisations (GitLab: groups) on an SCM host, through RUNNER_ID."""
    items = _all_pages(
        client.runners.list_scm_organizations,
        "organizations",
        limit,
        runner_id=runner_id,
        scm_host=scm_host,
        query=query,
        page_size=page_size,
    )
    emit_list(list(items), ORGANIZATION_COLUMNS, output=output)


@runners.command("check-access")
@click.argument("runner_id")
@click.argument("repository_url")
@api_command
def check_access(*, client: Client, output: str, runner_id: str, repository_url: str) -> None:
    """Check whether you can read REPOSITORY_URL, through RUNNER_ID; exit 1 when you cannot."""
    response = client.runners.check_repository_access(
        runner_id=runner_id, repository_url=repository_url
    )
    emit_message(response, output=output)
    if not response.has_access:
        raise SystemExit(1)


@click.group("context-url", epilog=EXIT_HELP)
def context_url() -> None:
    """Context URLs (repository, branch, commit, PR, issue URLs)."""


@context_url.command("parse")
@click.argument("url")
@click.option("--runner-id", default=None, help="Resolve hosts of this runner's integrations.")
@api_command
def parse(*, client: Client, output: str, url: str, runner_id: str | None) -> None:
    """Parse URL into host, owner, repository, branch, pull request or issue."""
    response = client.runners.parse_context_url(context_url=url, runner_id=runner_id)
    emit_message(response, output=output)
