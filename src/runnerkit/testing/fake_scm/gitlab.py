"""The GitLab REST API (v4) of the fake: projects, branches, merge requests, groups.

Shapes follow GitLab's documentation (``/api/v4/projects/{id}``, ``/repository/branches``,
``/merge_requests/{iid}``, ``/groups``, ``/projects`` with ``x-total``/``x-total-pages``/
``x-next-page`` and ``Link``). Private projects the token cannot read are 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runnerkit.testing.fake_scm.data import SHA
from runnerkit.testing.fake_scm.request import Resp, page, visible

if TYPE_CHECKING:
    from runnerkit.testing.fake_scm.data import FakeRepo, FakeSCMData
    from runnerkit.testing.fake_scm.request import Req


def gitlab_project(r: FakeRepo, web: str) -> dict[str, Any]:
    """A project as GitLab's REST API shows it."""
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


def gitlab(req: Req, data: FakeSCMData, user: str | None, web: str) -> Resp:  # noqa: PLR0911 - a router
    """Answer a GitLab REST API request."""
    segs = req.segs[2:] if req.segs[:2] == ["api", "v4"] else ["-"]
    repo = next(
        (
            r
            for r in data.repos
            if segs[:1] == ["projects"] and len(segs) > 1 and segs[1] in (r.full, str(r.id))
        ),
        None,
    )
    if segs[:1] == ["projects"] and len(segs) > 1 and (repo is None or not visible(repo, user)):
        return 404, {"message": "404 Project Not Found"}, {}
    if repo is not None and len(segs) == 2:
        return 200, gitlab_project(repo, web), {}
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
        chunk, headers = page(req, groups, gitlab=True, default=20)
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
        chunk, headers = page(req, mine, gitlab=True, default=20)
        return 200, [gitlab_project(r, web) for r in chunk], headers
    return 404, {"message": "404 Not Found"}, {}
