"""The GitHub REST API of the fake: repositories, branches, pulls, memberships, search.

Shapes follow GitHub's documentation (``/repos/{o}/{r}``, ``/branches/{b}``, ``/pulls/{n}``,
``/user/memberships/orgs``, ``/user/repos``, ``/search/repositories`` with ``Link``
pagination). Private repositories the token cannot read are 404, as GitHub answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runnerkit.testing.fake_scm.data import SHA
from runnerkit.testing.fake_scm.request import DOCS, Resp, page, visible

if TYPE_CHECKING:
    from runnerkit.testing.fake_scm.data import FakeRepo, FakeSCMData
    from runnerkit.testing.fake_scm.request import Req


def github_repo(r: FakeRepo, web: str) -> dict[str, Any]:
    """A repository as GitHub's REST API shows it."""
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


def github(req: Req, data: FakeSCMData, user: str | None, web: str) -> Resp:  # noqa: PLR0911 - a router
    """Answer a GitHub REST API request."""
    segs = req.segs
    not_found: Resp = (404, {"message": "Not Found", "documentation_url": DOCS}, {})
    repo = next(
        (
            r
            for r in data.repos
            if len(segs) >= 3 and segs[0] == "repos" and r.full == f"{segs[1]}/{segs[2]}"
        ),
        None,
    )
    if segs[:1] == ["repos"] and (repo is None or not visible(repo, user)):
        return not_found
    if repo is not None and len(segs) == 3:
        return 200, github_repo(repo, web), {}
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
                "documentation_url": DOCS,
            },
            {},
        )
    if segs == ["user", "memberships", "orgs"]:
        orgs = sorted((o for o in data.orgs if user in o.members), key=lambda o: o.name)
        chunk, headers = page(req, orgs, gitlab=False, default=30)
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
            (r for r in data.repos if (r.private and visible(r, user)) or r.owner == user),
            key=lambda r: r.full,
        )
        chunk, headers = page(req, mine, gitlab=False, default=30)
        return 200, [github_repo(r, web) for r in chunk], headers
    if segs == ["search", "repositories"]:
        if not req.query.get("q") or "invalid:" in req.query["q"]:
            return 422, {"message": "Validation Failed", "errors": [{"code": "invalid"}]}, {}
        words = [w.strip('"').lower() for w in req.query.get("q", "").split() if ":" not in w]
        found = sorted(
            (r for r in data.repos if visible(r, user) and all(w in r.name.lower() for w in words)),
            key=lambda r: r.full,
        )
        chunk, headers = page(req, found, gitlab=False, default=30)
        return (
            200,
            {
                "total_count": len(found),
                "incomplete_results": False,
                "items": [github_repo(r, web) for r in chunk],
            },
            headers,
        )
    return not_found
