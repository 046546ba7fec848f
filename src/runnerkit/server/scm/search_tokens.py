"""SearchRepositories paging: the ``NEXT_PAGE/TOTAL_PAGES/TOTAL_COUNT`` token and page size.

Unlike the server's other List RPCs, SearchRepositories pages through the SCM's own pages, and
its ``next_token`` has the documented, readable form ``NEXT_PAGE/TOTAL_PAGES/TOTAL_COUNT``,
e.g. ``2/40/1000``; -1 stands for an unknown value (``2/-1/-1``); empty means no more pages.
A request's ``pagination.token`` is such a token (empty = page 1); only its first number is
used. A token that is not three integers, or whose page is below 1, is ``invalid_argument``.

Page size: ``pagination.page_size`` wins when set (default 25); the deprecated ``limit`` is
used only when ``page_size`` is 0. The schema's rules bound both (``page_size`` 0-100,
``limit`` 1-100 or 0 for unset); a request past them is ``invalid_argument`` before any
handler runs.

``last_page`` (deprecated): TOTAL_PAGES when known; otherwise the current page when there is no
next page, else 0 (unknown).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from runnerkit.server.domain.errors import InvalidArgumentError

if TYPE_CHECKING:
    from runnerkit.server.scm.base import RepoPage

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "decode_page",
    "encode_token",
    "last_page",
    "search_page_size",
]

DEFAULT_PAGE_SIZE = 25
_TOKEN = re.compile(r"(-1|[0-9]{1,9})/(-1|[0-9]{1,9})/(-1|[0-9]{1,12})")


def encode_token(next_page: int | None, total_pages: int, total_count: int) -> str:
    """The ``next_token`` for a page.

    Args:
        next_page: Number of the next page; None when this is the last page.
        total_pages: Number of pages; -1 (or any negative) when unknown.
        total_count: Number of results; -1 (or any negative) when unknown.

    Returns:
        ``"NEXT_PAGE/TOTAL_PAGES/TOTAL_COUNT"``, or "" when there is no next page.
    """
    if next_page is None:
        return ""
    return f"{next_page}/{max(total_pages, -1)}/{max(total_count, -1)}"


def decode_page(token: str) -> int:
    """The page a request's ``pagination.token`` asks for.

    Args:
        token: The token from a previous response; empty for the first page.

    Returns:
        The page number, from 1.

    Raises:
        InvalidArgumentError: The token is malformed or names a page below 1.
    """
    if not token:
        return 1
    match = _TOKEN.fullmatch(token.strip())
    if match is None or int(match.group(1)) < 1:
        raise InvalidArgumentError("pagination.token", "not a SearchRepositories page token")
    return int(match.group(1))


def search_page_size(page_size: int, limit: int) -> int:
    """The page size of a SearchRepositories request.

    Args:
        page_size: ``pagination.page_size``.
        limit: The deprecated ``limit``.

    Returns:
        ``page_size`` if set, else ``limit`` if set, else 25. Both are 0-100 by the schema's
        rules, checked before the handler runs.
    """
    return page_size or limit or DEFAULT_PAGE_SIZE


def last_page(page: RepoPage) -> int:
    """The deprecated ``last_page`` of a response (see the module docstring).

    Args:
        page: The adapter's page.

    Returns:
        The number of the last page, or 0 when unknown.
    """
    if page.total_pages >= 0:
        return page.total_pages
    return page.page if page.next_page is None else 0
