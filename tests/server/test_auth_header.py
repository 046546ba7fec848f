"""``auth.bearer_token``: the usual form takes a fast path with the same answers."""

from __future__ import annotations

import pytest

from runnerkit.server.auth import bearer_token


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer rk_abc", "rk_abc"),
        ("bearer rk_abc", "rk_abc"),
        ("BEARER  rk_abc ", "rk_abc"),
        ("  Bearer rk_abc", "rk_abc"),
        ("Bearer rk_abc\t", "rk_abc"),
        ("Bearer \u00a0rk_abc", "rk_abc"),
        ("Bearer a b", "a b"),
        ("Bearer ", None),
        ("Bearer", None),
        ("Basic rk_abc", None),
        ("", None),
        (None, None),
        ("Bearer " + "x" * 512, "x" * 512),
        ("Bearer " + "x" * 513, None),
        ("bearer " + "x" * 513, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
