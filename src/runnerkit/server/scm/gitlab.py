"""GitLab adapter (gitlab.com and self-managed GitLab) over the REST API v4.

Endpoints: ``GET /projects/{path}`` (access, existence; the path is the URL-encoded
``group/sub/repo``), ``GET /projects/{path}/repository/branches/{b}``,
``GET /projects/{path}/merge_requests/{iid}``, ``GET /groups`` and ``GET /projects``.

Decisions:

- Organisations are groups the caller is a member of (``min_access_level=10``, guest and up),
  narrowed by GitLab's own ``search``; the name is the group's ``full_path``. The admin flag is
  "owner" (access level 50), read from a second request for the owned groups matching the same
  query (first 100), because the group list does not carry the caller's level.
- Search lists projects the caller is a member of (``membership=true``), most recently active
  first. Keyword mode sends the words as ``search`` (GitLab matches names and paths); native
  mode sends the string verbatim with ``search_namespaces=true`` (``group/proj`` matches). The
  name is the project's ``path`` (its slug). Totals come from ``x-total``/``x-total-pages``,
  which GitLab omits above 10,000 results (then -1); the next page from ``x-next-page``
  (else the ``Link`` header).
- GitLab ``locked`` merge requests (being merged) are reported as open; ``draft`` falls back to
  the older ``work_in_progress``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from runnerkit.server.scm.base import (
    Org,
    OrgPage,
    PullRequestInfo,
    Repo,
    RepoPage,
    SCMNotFoundError,
    SearchMode,
)
from runnerkit.server.scm.http import (
    field_of,
    int_header,
    json_list,
    json_object,
    link_pages,
    text,
)
from runnerkit.server.scm.rest import RESTAdapter

if TYPE_CHECKING:
    import httpx

__all__ = ["GitLabAdapter"]

_GUEST = 10
_OWNER = 50
_STATES = {"opened": "open", "locked": "open", "merged": "merged", "closed": "closed"}


def _next_page(response: httpx.Response) -> int | None:
    """``x-next-page`` (empty on the last page), else the ``Link`` header's ``next``."""
    if "x-next-page" in response.headers:
        return int_header(response, "x-next-page")
    return link_pages(response).get("next")


class GitLabAdapter(RESTAdapter):
    """The :class:`~runnerkit.server.scm.base.SCMAdapter` for one GitLab host.

    Args:
        client: The shared pooled client (see ``scm/http.py``).
        host: ``gitlab.com`` or a self-managed host.
        config: Base URL overrides; None for the derived ones.
    """

    SCM_ID = "gitlab"
    REPO_NOUN = "project"

    def _repo_path(self, owner: str, repo: str) -> str:
        return "/projects/" + quote(f"{owner}/{repo}", safe="")

    def branch_exists(self, token: str, owner: str, repo: str, branch: str) -> bool:
        """Whether ``branch`` exists in project ``owner/repo``.

        Args:
            token: The caller's host token.
            owner: Group path or user.
            repo: Project path.
            branch: Branch name (may contain slashes).

        Returns:
            True when it exists.

        Raises:
            SCMNotFoundError: The project is missing.
        """
        path = f"{self._repo_path(owner, repo)}/repository/branches/{quote(branch, safe='')}"
        response = self._get(token, path, f"branch {branch}", expect=(200, 404))
        if response.status_code == 200:
            return True
        if not self.repository_exists(token, owner, repo):
            raise SCMNotFoundError(f"project {owner}/{repo} not found on {self._host}")
        return False

    def get_pull_request(self, token: str, owner: str, repo: str, number: int) -> PullRequestInfo:
        """Merge request ``number`` (its iid) of project ``owner/repo``.

        Args:
            token: The caller's host token.
            owner: Group path or user.
            repo: Project path.
            number: The merge request's iid.

        Returns:
            Title, author, branches, state, draft flag, URL and head commit.
        """
        path = f"{self._repo_path(owner, repo)}/merge_requests/{int(number)}"
        body = json_object(
            self._get(token, path, f"merge request {owner}/{repo}!{number}"), self._host
        )
        state = _STATES.get(text(body.get("state")), "closed")
        draft = body.get("draft") is True or body.get("work_in_progress") is True
        return PullRequestInfo(
            number=int(number),
            title=text(body.get("title")),
            author=text(field_of(body, "author", "username")),
            from_branch=text(body.get("source_branch")),
            to_branch=text(body.get("target_branch")),
            state="open" if state == "open" else ("merged" if state == "merged" else "closed"),
            draft=draft,
            url=text(body.get("web_url")),
            head_sha=text(body.get("sha")),
        )

    def list_organizations(
        self, token: str, *, query: str = "", page: int = 1, per_page: int = 25
    ) -> OrgPage:
        """One page of the groups the caller belongs to.

        Args:
            token: The caller's host token.
            query: GitLab's group search (name or path); empty for all.
            page: Page number, from 1.
            per_page: Page size, 1-100.

        Returns:
            The groups (owner = admin) and the next page's number.
        """
        params: dict[str, str | int] = {
            "min_access_level": _GUEST,
            "order_by": "name",
            "per_page": per_page,
            "page": page,
        }
        if query.strip():
            params["search"] = query.strip()
        response = self._get(token, "/groups", "groups", params)
        groups = json_list(response, self._host)
        owned: set[object] = set()
        if groups:
            owner_params = {**params, "min_access_level": _OWNER, "per_page": 100, "page": 1}
            owned = {
                g.get("id")
                for g in json_list(self._get(token, "/groups", "groups", owner_params), self._host)
            }
        orgs = [
            Org(text(g.get("full_path")), text(g.get("web_url")), g.get("id") in owned)
            for g in groups
        ]
        return OrgPage(orgs, _next_page(response))

    def search_repositories(
        self, token: str, *, search: str, mode: SearchMode, page: int = 1, per_page: int = 25
    ) -> RepoPage:
        """One page of the caller's projects (see the module docstring for the two modes).

        Args:
            token: The caller's host token.
            search: The search string; empty lists all the caller's projects.
            mode: ``keyword`` or ``native``.
            page: Page number, from 1.
            per_page: Page size, 1-100.

        Returns:
            The projects, totals (-1 when unknown) and the next page's number.
        """
        params: dict[str, str | int] = {
            "membership": "true",
            "simple": "true",
            "order_by": "last_activity_at",
            "per_page": per_page,
            "page": page,
        }
        if search.strip():
            params["search"] = search.strip() if mode == "native" else " ".join(search.split())
            if mode == "native":
                params["search_namespaces"] = "true"
        response = self._get(token, "/projects", "project search", params, field="search_string")
        repos = [
            Repo(text(p.get("path")), text(p.get("web_url")))
            for p in json_list(response, self._host)
        ]
        total = int_header(response, "x-total")
        pages = int_header(response, "x-total-pages")
        return RepoPage(
            repos,
            page,
            pages if pages is not None else -1,
            total if total is not None else -1,
            _next_page(response),
        )
