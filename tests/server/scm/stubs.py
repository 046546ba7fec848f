"""Local stubs of the GitHub and GitLab REST APIs: plain ASGI apps served by uvicorn on loopback.

``run_stub("github" | "gitlab", data=None, prefix="") -> ContextManager[Stub]`` starts the
stub on 127.0.0.1:<free port> in a background thread; ``stub.api_base`` is what the adapters'
configuration should point at. ``stub.data`` (:class:`StubData`, in-memory fixtures: tokens,
repositories, organisations/groups with roles, pull/merge requests, branches, OAuth refresh
tokens) and ``stub.switches`` (:class:`Switches`: ``rate_limit`` 403/429, ``outage`` 5xx,
``delay_s``, ``drop_headers``) may be changed while it runs; ``switches.requests`` records
``"METHOD /path?query"``.

Response shapes follow the SCMs' documentation: GitHub (``/repos/{o}/{r}``, ``/branches/{b}``,
``/pulls/{n}``, ``/user/memberships/orgs``, ``/user/repos``, ``/search/repositories`` with
``Link`` pagination, ``x-ratelimit-*`` headers, ``POST /login/oauth/access_token`` answering
200 with ``error`` on failure) and GitLab (``/api/v4/projects/{id}``, ``/repository/branches``,
``/merge_requests/{iid}``, ``/groups``, ``/projects`` with ``x-total``/``x-total-pages``/
``x-next-page`` and ``Link``, 429 with ``ratelimit-reset``/``retry-after``,
``POST /oauth/token`` answering 400/401 on failure). Private repositories the token cannot
read are 404, as both SCMs do. ``prefix`` mounts the GitHub stub under ``/api/v3`` (GHE).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, unquote, urlencode

import uvicorn

from runnerkit.server.serve import bind

if TYPE_CHECKING:
    from collections.abc import Iterator

    from runnerkit.server.asgi import Receive, Scope, Send

Kind = Literal["github", "gitlab"]
Resp = tuple[int, Any, dict[str, str]]
RESET_EPOCH = 1_900_000_000  # 2030-03-17T17:46:40Z, the rate limits' reset time
SHA = "0123456789abcdef0123456789abcdef01234567"
ALICE = "tok-alice-S3CRET-0001"
BOB = "tok-bob-S3CRET-0002"
REFUSED = "tok-refused-S3CRET-0003"
REFRESH = "rt-alice-S3CRET-0004"
CLIENT_ID = "client-id-1"
CLIENT_SECRET = "client-S3CRET-0005"
_ids = itertools.count(1000)
_DOCS = "https://docs.github.com/rest"


@dataclass
class StubRepo:
    owner: str
    name: str
    private: bool = False
    readers: frozenset[str] = frozenset()
    branches: dict[str, str] = field(default_factory=lambda: {"main": SHA})
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def full(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class StubPull:
    repo: str  # owner/name
    number: int
    title: str
    author: str
    from_branch: str
    to_branch: str = "main"
    state: str = "open"  # open, closed, merged (GitLab: locked too)
    draft: bool = False


@dataclass
class StubOrg:
    name: str  # GitHub login or GitLab full path
    members: dict[str, str]  # user -> "admin" | "member"
    id: int = field(default_factory=lambda: next(_ids))


@dataclass
class StubData:
    tokens: dict[str, str]  # access token -> user
    refused: set[str]  # valid tokens the SCM answers 403 for
    repos: list[StubRepo]
    orgs: list[StubOrg]
    pulls: list[StubPull]
    refresh_tokens: dict[str, str]  # refresh token -> user
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    minted: int = 0


@dataclass
class Switches:
    rate_limit: int | None = None  # 403 or 429
    outage: int | None = None  # 500, 502, 503
    delay_s: float = 0.0
    drop_headers: tuple[str, ...] = ()  # e.g. GitLab's x-total above 10,000 results
    requests: list[str] = field(default_factory=list)


def default_data() -> StubData:
    """alice: owner of alice/hello, reader of acme/* (7 svc repos), in 5 orgs (2 admin)."""
    svc = [
        StubRepo("acme", f"svc-{i:02}", private=True, readers=frozenset({"alice"}))
        for i in range(1, 8)
    ]
    return StubData(
        tokens={ALICE: "alice", BOB: "bob", REFUSED: "carol"},
        refused={REFUSED},
        repos=[
            StubRepo("alice", "hello", branches={"main": SHA, "feature/x": SHA}),
            StubRepo("alice", "empty", branches={}),
            StubRepo("acme", "private-app", private=True, readers=frozenset({"alice"})),
            StubRepo("acme/platform", "api", private=True, readers=frozenset({"alice"})),
            *svc,
        ],
        orgs=[
            StubOrg(name, {"alice": role, "bob": "member"})
            for name, role in [
                ("acme", "admin"),
                ("beta", "member"),
                ("delta", "admin"),
                ("epsilon", "member"),
                ("gamma", "member"),
            ]
        ],
        pulls=[
            StubPull("alice/hello", 1, "Add greeting", "bob", "feature/x", draft=True),
            StubPull("alice/hello", 2, "Merged change", "alice", "fix", state="merged"),
            StubPull("alice/hello", 3, "Closed change", "bob", "old", state="closed"),
        ],
        refresh_tokens={REFRESH: "alice"},
    )


@dataclass
class Req:
    method: str
    segs: list[str]
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    base: str  # scheme://host:port
    raw_path: str

    def user(self, data: StubData) -> str | None:
        auth = self.headers.get("authorization", "")
        return data.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None


def _page(
    req: Req, items: list[Any], *, gitlab: bool, default: int
) -> tuple[list[Any], dict[str, str]]:
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


def _visible(repo: StubRepo, user: str | None) -> bool:
    return not repo.private or (user is not None and (user == repo.owner or user in repo.readers))


def _refresh(req: Req, data: StubData, kind: Kind) -> Resp:
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


def _github_repo(r: StubRepo, web: str) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "full_name": r.full,
        "private": r.private,
        "owner": {"login": r.owner},
        "html_url": f"{web}/{r.full}",
        "clone_url": f"{web}/{r.full}.git",
        "default_branch": "main",
    }


def github(req: Req, data: StubData, user: str | None, web: str) -> Resp:  # noqa: PLR0911 - a router
    segs = req.segs
    not_found: Resp = (404, {"message": "Not Found", "documentation_url": _DOCS}, {})
    repo = next(
        (
            r
            for r in data.repos
            if len(segs) >= 3 and segs[0] == "repos" and r.full == f"{segs[1]}/{segs[2]}"
        ),
        None,
    )
    if segs[:1] == ["repos"] and (repo is None or not _visible(repo, user)):
        return not_found
    if repo is not None and len(segs) == 3:
        return 200, _github_repo(repo, web), {}
    if repo is not None and segs[3:4] == ["branches"] and len(segs) == 5:
        if not repo.branches:
            return 409, {"message": "Git Repository is empty.", "status": "409"}, {}
        if segs[4] not in repo.branches:
            return 404, {"message": "Branch not found"}, {}
        return (
            200,
            {"name": segs[4], "commit": {"sha": repo.branches[segs[4]]}, "protected": False},
            {},
        )
    if repo is not None and segs[3:4] == ["pulls"] and len(segs) == 5:
        pull = next(
            (p for p in data.pulls if p.repo == repo.full and str(p.number) == segs[4]), None
        )
        if pull is None:
            return not_found
        return (
            200,
            {
                "number": pull.number,
                "title": pull.title,
                "user": {"login": pull.author},
                "draft": pull.draft,
                "state": "open" if pull.state == "open" else "closed",
                "merged_at": "2026-01-02T03:04:05Z" if pull.state == "merged" else None,
                "html_url": f"{web}/{repo.full}/pull/{pull.number}",
                "head": {"ref": pull.from_branch, "sha": SHA},
                "base": {"ref": pull.to_branch, "sha": SHA},
            },
            {},
        )
    if segs[:1] in (["user"], ["search"]) and user is None:
        return (
            401,
            {
                "message": "Requires authentication",
                "documentation_url": _DOCS,
            },
            {},
        )
    if segs == ["user", "memberships", "orgs"]:
        orgs = sorted((o for o in data.orgs if user in o.members), key=lambda o: o.name)
        chunk, headers = _page(req, orgs, gitlab=False, default=30)
        return (
            200,
            [
                {
                    "state": "active",
                    "role": o.members[str(user)],
                    "organization_url": f"{req.base}/orgs/{o.name}",
                    "organization": {
                        "login": o.name,
                        "id": o.id,
                        "url": f"{req.base}/orgs/{o.name}",
                    },
                    "user": {"login": user},
                }
                for o in chunk
            ],
            headers,
        )
    if segs == ["user", "repos"]:
        mine = sorted(
            (r for r in data.repos if (r.private and _visible(r, user)) or r.owner == user),
            key=lambda r: r.full,
        )
        chunk, headers = _page(req, mine, gitlab=False, default=30)
        return 200, [_github_repo(r, web) for r in chunk], headers
    if segs == ["search", "repositories"]:
        if not req.query.get("q") or "invalid:" in req.query["q"]:
            return 422, {"message": "Validation Failed", "errors": [{"code": "invalid"}]}, {}
        words = [w.strip('"').lower() for w in req.query.get("q", "").split() if ":" not in w]
        found = sorted(
            (
                r
                for r in data.repos
                if _visible(r, user) and all(w in r.name.lower() for w in words)
            ),
            key=lambda r: r.full,
        )
        chunk, headers = _page(req, found, gitlab=False, default=30)
        return (
            200,
            {
                "total_count": len(found),
                "incomplete_results": False,
                "items": [_github_repo(r, web) for r in chunk],
            },
            headers,
        )
    return not_found


def _gitlab_project(r: StubRepo, web: str) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name.replace("-", " ").title(),
        "path": r.name,
        "path_with_namespace": r.full,
        "web_url": f"{web}/{r.full}",
        "http_url_to_repo": f"{web}/{r.full}.git",
        "default_branch": "main",
        "visibility": "private" if r.private else "public",
        "namespace": {"full_path": r.owner},
    }


def gitlab(req: Req, data: StubData, user: str | None, web: str) -> Resp:  # noqa: PLR0911 - a router
    segs = req.segs[2:] if req.segs[:2] == ["api", "v4"] else ["-"]
    repo = next(
        (
            r
            for r in data.repos
            if segs[:1] == ["projects"] and len(segs) > 1 and segs[1] in (r.full, str(r.id))
        ),
        None,
    )
    if segs[:1] == ["projects"] and len(segs) > 1 and (repo is None or not _visible(repo, user)):
        return 404, {"message": "404 Project Not Found"}, {}
    if repo is not None and len(segs) == 2:
        return 200, _gitlab_project(repo, web), {}
    if repo is not None and segs[2:4] == ["repository", "branches"] and len(segs) == 5:
        if segs[4] not in repo.branches:
            return 404, {"message": "404 Branch Not Found"}, {}
        return (
            200,
            {
                "name": segs[4],
                "commit": {"id": repo.branches[segs[4]]},
                "merged": False,
                "protected": False,
                "default": segs[4] == "main",
            },
            {},
        )
    if repo is not None and segs[2:3] == ["merge_requests"] and len(segs) == 4:
        mr = next((p for p in data.pulls if p.repo == repo.full and str(p.number) == segs[3]), None)
        if mr is None:
            return 404, {"message": "404 Not found"}, {}
        return (
            200,
            {
                "id": mr.number + 5000,
                "iid": mr.number,
                "project_id": repo.id,
                "title": mr.title,
                "state": "opened" if mr.state == "open" else mr.state,
                "draft": mr.draft,
                "work_in_progress": mr.draft,
                "source_branch": mr.from_branch,
                "target_branch": mr.to_branch,
                "author": {"username": mr.author, "name": mr.author.title()},
                "web_url": f"{web}/{repo.full}/-/merge_requests/{mr.number}",
                "sha": SHA,
            },
            {},
        )
    if segs in (["groups"], ["projects"]) and user is None:
        return 401, {"message": "401 Unauthorized"}, {}
    search = req.query.get("search", "").lower()
    if segs == ["groups"]:
        level = int(req.query.get("min_access_level", 0))
        groups = [
            g
            for g in sorted(data.orgs, key=lambda g: g.name)
            if user in g.members
            and (50 if g.members[str(user)] == "admin" else 30) >= level
            and search in g.name.lower()
        ]
        chunk, headers = _page(req, groups, gitlab=True, default=20)
        return (
            200,
            [
                {
                    "id": g.id,
                    "name": g.name.rsplit("/", 1)[-1].title(),
                    "path": g.name.rsplit("/", 1)[-1],
                    "full_path": g.name,
                    "full_name": g.name,
                    "web_url": f"{web}/groups/{g.name}",
                    "visibility": "private",
                }
                for g in chunk
            ],
            headers,
        )
    if segs == ["projects"]:
        field_ = "full" if req.query.get("search_namespaces") == "true" else "name"
        mine = [
            r
            for r in sorted(data.repos, key=lambda r: r.full)
            if (r.owner == user or user in r.readers) and search in getattr(r, field_).lower()
        ]
        chunk, headers = _page(req, mine, gitlab=True, default=20)
        return 200, [_gitlab_project(r, web) for r in chunk], headers
    return 404, {"message": "404 Not Found"}, {}


def _gate(req: Req, data: StubData, sw: Switches, kind: Kind) -> Resp | None:  # noqa: PLR0911
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
                        "documentation_url": _DOCS,
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


class Stub:
    def __init__(self, kind: Kind, data: StubData, prefix: str) -> None:
        self.kind, self.data, self.switches, self.prefix = kind, data, Switches(), prefix
        self.base_url = ""
        self.web = (
            "https://ghe.example.com"
            if prefix
            else ("https://github.com" if kind == "github" else "https://gitlab.com")
        )

    def reset(self) -> None:
        """Fresh fixtures and switches (servers are shared between tests)."""
        self.data, self.switches = default_data(), Switches()

    @property
    def api_base(self) -> str:
        return self.base_url + ("/api/v4" if self.kind == "gitlab" else self.prefix)

    def respond(self, req: Req, data: StubData, switches: Switches) -> Resp:
        switches.requests.append(f"{req.method} {req.raw_path}?{urlencode(req.query)}")
        if self.prefix and req.segs[:2] == self.prefix.strip("/").split("/"):
            req.segs = req.segs[2:]
        gated = _gate(req, data, switches, self.kind)
        if gated is not None:
            return gated
        if req.method == "POST" and req.segs in (
            ["login", "oauth", "access_token"],
            ["oauth", "token"],
        ):
            return _refresh(req, data, self.kind)
        handler = github if self.kind == "github" else gitlab
        return handler(req, data, req.user(data), self.web)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        raw = scope["raw_path"].decode()
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        req = Req(
            scope["method"],
            [unquote(s) for s in raw.split("/") if s],
            dict(parse_qsl(scope["query_string"].decode())),
            headers,
            dict(parse_qsl(body.decode())),
            f"http://{headers.get('host', '')}",
            raw,
        )
        data, switches = self.data, self.switches  # as of the request's arrival
        if switches.delay_s:
            await asyncio.sleep(switches.delay_s)
        status, payload, extra = self.respond(req, data, switches)
        extra = {k: v for k, v in extra.items() if k not in switches.drop_headers}
        text = isinstance(payload, str)
        out = payload.encode() if text else json.dumps(payload).encode()
        kinds = [(b"content-type", b"text/plain" if text else b"application/json")]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": kinds + [(k.encode(), v.encode()) for k, v in extra.items()],
            }
        )
        await send({"type": "http.response.body", "body": out})


@contextlib.contextmanager
def run_stub(kind: Kind, data: StubData | None = None, prefix: str = "") -> Iterator[Stub]:
    """Serve a stub on 127.0.0.1:<free port> in a thread for the duration of the block."""
    stub = Stub(kind, data or default_data(), prefix)
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        stub, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("stub did not start")
            time.sleep(0.01)
        stub.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        yield stub
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
