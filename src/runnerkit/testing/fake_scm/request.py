"""A fake SCM request, pagination, visibility, OAuth refresh and the checks before any route.

``gate`` answers outages and rate limits (``Switches``) and bad or refused tokens the way each
SCM does; ``refresh`` is the OAuth refresh-token grant (GitHub answers 200 with ``error`` on
failure, GitLab 400/401).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

if TYPE_CHECKING:
    from runnerkit.testing.fake_scm.data import FakeRepo, FakeSCMData

Kind = Literal["github", "gitlab"]
Resp = tuple[int, Any, dict[str, str]]
RESET_EPOCH = 1_900_000_000  # 2030-03-17T17:46:40Z, the rate limits' reset time
DOCS = "https://docs.github.com/rest"


@dataclass
class Switches:
    """Misbehaviour of a fake SCM, to test how the server copes; ``requests`` records calls.

    Attributes:
        rate_limit: 403 or 429: answer every call as rate limited.
        outage: 500, 502 or 503: answer every call with that server error.
        delay_s: Seconds to wait before answering.
        drop_headers: Response headers to leave out (e.g. GitLab's ``x-total``).
        requests: ``"METHOD /path?query"`` of every call, oldest first.
    """

    rate_limit: int | None = None
    outage: int | None = None
    delay_s: float = 0.0
    drop_headers: tuple[str, ...] = ()
    requests: list[str] = field(default_factory=list)


@dataclass
class Req:
    """One request as the routes see it (path split into segments, query and form parsed)."""

    method: str
    segs: list[str]
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    base: str  # scheme://host:port
    raw_path: str

    def user(self, data: FakeSCMData) -> str | None:
        """The user the bearer token belongs to, if any."""
        auth = self.headers.get("authorization", "")
        return data.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None


def page(
    req: Req, items: list[Any], *, gitlab: bool, default: int
) -> tuple[list[Any], dict[str, str]]:
    """One page of ``items`` and the pagination headers (GitHub ``Link``; GitLab ``x-*`` too)."""
    per_page = min(int(req.query.get("per_page", default)), 100)
    page = int(req.query.get("page", 1))
    pages = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]

    def url(n: int) -> str:
        return f"{req.base}{req.raw_path}?{urlencode({**req.query, 'page': n})}"

    rels = {"first": 1, "last": pages} | ({"prev": page - 1} if page > 1 else {})
    rels |= {"next": page + 1} if page < pages else {}
    headers = {"link": ", ".join(f'<{url(n)}>; rel="{rel}"' for rel, n in rels.items())}
    if gitlab:
        nxt, prv = rels.get("next", ""), rels.get("prev", "")
        headers |= {"x-total": str(len(items)), "x-total-pages": str(pages), "x-page": str(page)}
        headers |= {"x-per-page": str(per_page), "x-next-page": str(nxt), "x-prev-page": str(prv)}
    return chunk, headers


def visible(repo: FakeRepo, user: str | None) -> bool:
    """Whether ``user`` may see ``repo`` (public, owner or reader)."""
    return not repo.private or (user is not None and (user == repo.owner or user in repo.readers))


def refresh(req: Req, data: FakeSCMData, kind: Kind) -> Resp:
    """The OAuth refresh-token grant, answered as each SCM does."""
    form = req.form
    if form.get("client_id") != data.client_id or form.get("client_secret") != data.client_secret:
        if kind == "github":
            return (
                200,
                {
                    "error": "incorrect_client_credentials",
                    "error_description": "The client_id and/or client_secret passed are incorrect.",
                },
                {},
            )
        return (
            401,
            {"error": "invalid_client", "error_description": "Client authentication failed."},
            {},
        )
    user = data.refresh_tokens.pop(form.get("refresh_token", ""), None)
    if form.get("grant_type") != "refresh_token" or user is None:
        if kind == "github":
            return (
                200,
                {
                    "error": "bad_refresh_token",
                    "error_description": "The refresh token passed is incorrect or expired.",
                },
                {},
            )
        return (
            400,
            {
                "error": "invalid_grant",
                "error_description": "The provided authorization grant is invalid.",
            },
            {},
        )
    data.minted += 1
    access, refresh = f"new-access-{data.minted}", f"new-refresh-{data.minted}"
    data.tokens[access], data.refresh_tokens[refresh] = user, user
    if kind == "github":
        return (
            200,
            {
                "access_token": access,
                "expires_in": 28800,
                "refresh_token": refresh,
                "refresh_token_expires_in": 15897600,
                "scope": "",
                "token_type": "bearer",
            },
            {},
        )
    return (
        200,
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 7200,
            "refresh_token": refresh,
            "scope": "api read_repository",
            "created_at": int(time.time()),
        },
        {},
    )


def gate(req: Req, data: FakeSCMData, sw: Switches, kind: Kind) -> Resp | None:  # noqa: PLR0911
    """Outage, rate limit and token checks that come before any route."""
    if sw.outage:
        return (
            sw.outage,
            "<html>upstream error</html>",
            {"retry-after": "30"} if sw.outage == 503 else {},
        )
    if sw.rate_limit and kind == "github":
        if sw.rate_limit == 429:
            return (
                429,
                {"message": "You have exceeded a secondary rate limit."},
                {"retry-after": "60"},
            )
        return (
            403,
            {"message": "API rate limit exceeded for user ID 1."},
            {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "5000",
                "x-ratelimit-reset": str(RESET_EPOCH),
            },
        )
    if sw.rate_limit:
        return (
            429,
            "Retry later\n",
            {
                "ratelimit-limit": "2000",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(RESET_EPOCH),
                "retry-after": "60",
            },
        )
    auth = req.headers.get("authorization", "")
    if auth and req.method == "GET":
        token = auth.removeprefix("Bearer ")
        if token not in data.tokens:
            return (
                (
                    401,
                    {
                        "message": "Bad credentials",
                        "documentation_url": DOCS,
                    },
                    {},
                )
                if kind == "github"
                else (401, {"message": "401 Unauthorized"}, {})
            )
        if token in data.refused:
            if kind == "github":
                return (
                    403,
                    {
                        "message": "Resource not accessible by personal access token",
                        "status": "403",
                    },
                    {},
                )
            return (
                403,
                {
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than provided by the access token.",
                    "scope": "api read_api",
                },
                {},
            )
    return None
