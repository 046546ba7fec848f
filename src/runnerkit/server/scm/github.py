"""GitHub adapter (github.com and GitHub Enterprise Server) over the REST API v3.

Endpoints: ``GET /repos/{o}/{r}`` (access, existence), ``GET /repos/{o}/{r}/branches/{b}``,
``GET /repos/{o}/{r}/pulls/{n}``, ``GET /user/memberships/orgs`` (organisations with the
caller's role in one call; ``role == "admin"`` is the admin flag), ``GET /search/repositories``
and ``GET /user/repos``. Requests send ``Accept: application/vnd.github+json`` and
``X-GitHub-Api-Version: 2022-11-28``.

Decisions:

- GitHub answers 404, not 403, for a private repository the token cannot see, so
  CheckRepositoryAccess reports "not found or no access" for both.
- Organisations have no server-side name filter: ``query`` filters each page (case-insensitive
  substring of the login), so a page may be short; ``next_page`` follows the ``Link`` header.
- Search, keyword mode: an empty string lists the caller's own repositories (``/user/repos``,
  most recently updated first; total count unknown, total pages from ``Link rel="last"``);
  otherwise each word is quoted (so ``:`` cannot smuggle in qualifiers) and ``in:name`` added.
  Native mode: the string is GitHub's search syntax, passed verbatim as ``q`` (empty → as
  keyword). The search API serves at most 1000 results, so total pages are capped there and a
  page beyond them is empty.
"""

from __future__ import annotations

import math
from urllib.parse import quote

from runnerkit.server.scm.base import (
    Org,
    OrgPage,
    PullRequestInfo,
    PullRequestState,
    Repo,
    RepoPage,
    SCMNotFoundError,
    SearchMode,
)
from runnerkit.server.scm.http import (
    field_of,
    json_list,
    json_object,
    link_pages,
    text,
)
from runnerkit.server.scm.rest import RESTAdapter

__all__ = ["GitHubAdapter"]

_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
_SEARCH_RESULT_CAP = 1000


def _keyword_query(search: str) -> str:
    words = [w.replace('"', "") for w in search.split()]
    return " ".join([*(f'"{w}"' for w in words if w), "in:name"])


class GitHubAdapter(RESTAdapter):
    """The :class:`~runnerkit.server.scm.base.SCMAdapter` for one GitHub host.

    Args:
        client: The shared pooled client (see ``scm/http.py``).
        host: ``github.com`` or a GitHub Enterprise Server host.
        config: Base URL overrides; None for the derived ones.
    """

    SCM_ID = "github"
    HEADERS = _HEADERS
    REPO_NOUN = "repository"

    def _repo_path(self, owner: str, repo: str) -> str:
        return f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"

    def branch_exists(self, token: str, owner: str, repo: str, branch: str) -> bool:
        """Whether ``branch`` exists in ``owner/repo``.

        Args:
            token: The caller's host token.
            owner: User or organisation.
            repo: Repository name.
            branch: Branch name (may contain slashes).

        Returns:
            True when it exists.

        Raises:
            SCMNotFoundError: The repository is missing.
        """
        path = f"{self._repo_path(owner, repo)}/branches/{quote(branch, safe='')}"
        response = self._get(token, path, f"branch {branch}", expect=(200, 404, 409))
        if response.status_code == 200:
            return True
        if response.status_code == 409:  # GitHub: "Git Repository is empty."
            return False
        if not self.repository_exists(token, owner, repo):
            raise SCMNotFoundError(f"repository {owner}/{repo} not found on {self._host}")
        return False

    def get_pull_request(self, token: str, owner: str, repo: str, number: int) -> PullRequestInfo:
        """Pull request ``number`` of ``owner/repo``.

        Args:
            token: The caller's host token.
            owner: User or organisation.
            repo: Repository name.
            number: The pull request's number.

        Returns:
            Title, author, branches, state, draft flag, URL and head commit.
        """
        path = f"{self._repo_path(owner, repo)}/pulls/{int(number)}"
        body = json_object(
            self._get(token, path, f"pull request {owner}/{repo}#{number}"), self._host
        )
        merged = body.get("merged_at") is not None or body.get("merged") is True
        state: PullRequestState = (
            "merged" if merged else ("open" if body.get("state") == "open" else "closed")
        )
        return PullRequestInfo(
            number=int(number),
            title=text(body.get("title")),
            author=text(field_of(body, "user", "login")),
            from_branch=text(field_of(body, "head", "ref")),
            to_branch=text(field_of(body, "base", "ref")),
            state=state,
            draft=body.get("draft") is True,
            url=text(body.get("html_url")),
            head_sha=text(field_of(body, "head", "sha")),
        )

    def list_organizations(
        self, token: str, *, query: str = "", page: int = 1, per_page: int = 25
    ) -> OrgPage:
        """One page of the caller's active organisation memberships.

        Args:
            token: The caller's host token.
            query: Case-insensitive substring of the login; empty for all.
            page: Page number, from 1.
            per_page: Page size, 1-100.

        Returns:
            The organisations and the next page's number.
        """
        response = self._get(
            token,
            "/user/memberships/orgs",
            "organisations",
            {"state": "active", "per_page": per_page, "page": page},
        )
        needle = query.strip().lower()
        orgs: list[Org] = []
        for item in json_list(response, self._host):
            login = text(field_of(item, "organization", "login"))
            if login and needle in login.lower():
                orgs.append(
                    Org(login, f"https://{self._host}/{login}", item.get("role") == "admin")
                )
        return OrgPage(orgs, link_pages(response).get("next"))

    def search_repositories(
        self, token: str, *, search: str, mode: SearchMode, page: int = 1, per_page: int = 25
    ) -> RepoPage:
        """One page of repositories (see the module docstring for the two modes).

        Args:
            token: The caller's host token.
            search: The search string.
            mode: ``keyword`` or ``native``.
            page: Page number, from 1.
            per_page: Page size, 1-100.

        Returns:
            The repositories, totals (-1 when unknown) and the next page's number.
        """
        if not search.strip():
            return self._own_repositories(token, page, per_page)
        if (page - 1) * per_page >= _SEARCH_RESULT_CAP:  # GitHub would answer 422
            return RepoPage([], page, -1, -1, None)
        q = search.strip() if mode == "native" else _keyword_query(search)
        response = self._get(
            token,
            "/search/repositories",
            "repository search",
            {"q": q, "per_page": per_page, "page": page},
            field="search_string",
        )
        body = json_object(response, self._host)
        items = body.get("items")
        repos = [
            Repo(text(item.get("name")), text(item.get("html_url")))
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict)
        ]
        count = body.get("total_count")
        total = count if isinstance(count, int) and count >= 0 else -1
        pages = math.ceil(min(total, _SEARCH_RESULT_CAP) / per_page) if total >= 0 else -1
        next_page = link_pages(response).get("next")
        if next_page is None and pages >= 0 and page < pages and "link" not in response.headers:
            next_page = page + 1
        return RepoPage(repos, page, pages, total, next_page)

    def _own_repositories(self, token: str, page: int, per_page: int) -> RepoPage:
        response = self._get(
            token,
            "/user/repos",
            "repositories",
            {"sort": "updated", "per_page": per_page, "page": page},
        )
        repos = [
            Repo(text(item.get("name")), text(item.get("html_url")))
            for item in json_list(response, self._host)
        ]
        links = link_pages(response)
        next_page = links.get("next")
        last = links.get("last", page if next_page is None else -1)
        return RepoPage(repos, page, last, -1, next_page)
