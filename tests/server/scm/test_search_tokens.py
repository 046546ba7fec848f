"""SearchRepositories paging rules: the NEXT_PAGE/TOTAL_PAGES/TOTAL_COUNT token and page size."""

from __future__ import annotations

import pytest

from runnerkit.server.domain.errors import InvalidArgumentError
from runnerkit.server.scm.base import RepoPage
from runnerkit.server.scm.search_tokens import (
    decode_page,
    encode_token,
    last_page,
    search_page_size,
)


@pytest.mark.parametrize(
    ("next_page", "total_pages", "total_count", "token"),
    [
        (2, 40, 1000, "2/40/1000"),
        (2, -1, -1, "2/-1/-1"),
        (3, -7, -2, "3/-1/-1"),
        (5, 10, -1, "5/10/-1"),
        (None, 3, 70, ""),
    ],
)
def test_encode(next_page, total_pages, total_count, token):
    assert encode_token(next_page, total_pages, total_count) == token


@pytest.mark.parametrize(
    ("token", "page"), [("", 1), ("2/40/1000", 2), ("7/-1/-1", 7), (" 3/3/70 ", 3)]
)
def test_decode(token, page):
    assert decode_page(token) == page


@pytest.mark.parametrize(
    "token", ["x", "2", "2/40", "0/1/1", "-1/2/3", "2/40/1000/1", "a/b/c", "1e3/1/1", "2/-2/1"]
)
def test_decode_rejects_garbage(token):
    with pytest.raises(InvalidArgumentError, match=r"^pagination\.token: "):
        decode_page(token)


def test_round_trip():
    for page in (1, 2, 99, 123456):
        assert decode_page(encode_token(page, -1, 5)) == page


@pytest.mark.parametrize(
    ("page_size", "limit", "size"),
    [
        (0, 0, 25),
        (10, 0, 10),
        (10, 50, 10),
        (0, 50, 50),
        (100, 1, 100),
    ],
)
def test_page_size(page_size, limit, size):
    assert search_page_size(page_size, limit) == size


# Values past 0-100 never get here: the schema's rules reject them (tests/server/test_request_rules.py).


@pytest.mark.parametrize(
    ("page", "total_pages", "next_page", "last"),
    [(2, 40, 3, 40), (3, -1, None, 3), (3, -1, 4, 0), (1, 1, None, 1)],
)
def test_last_page(page, total_pages, next_page, last):
    assert last_page(RepoPage([], page, total_pages, -1, next_page)) == last
