"""The SCM adapter interface: one Protocol, its result types and its errors.

An adapter talks to one source control host (``github.com``, a GitHub Enterprise server,
``gitlab.com`` or a self-managed GitLab) over its REST API with the caller's host token. It
knows nothing of runners, stores or Connect: the RPC layer decrypts the token, calls the
adapter and turns results and errors into responses.

Errors are :class:`~runnerkit.server.domain.errors.DomainError` subclasses, so the server's one
error table (``server/errors.py``, which walks the MRO) maps them to Connect codes:

- :class:`SCMAuthRequiredError`: 401, or a rejected refresh → ``failed_precondition``.
- :class:`SCMPermissionDeniedError`: 403 that is not a rate limit → ``permission_denied``.
- :class:`SCMNotFoundError`: 404 → ``not_found``.
- :class:`SCMRateLimitedError`: 429, or 403 with the rate-limit headers →
  ``resource_exhausted`` (via :class:`ResourceExhaustedError`, new, below).
- :class:`SCMUnavailableError`: 5xx, timeout, connection error → ``unavailable`` (via
  :class:`UnavailableError`, new, below).
- :class:`SCMBadRequestError`: 400 or 422 (e.g. a native search query GitHub cannot parse) →
  ``invalid_argument`` naming the request field the adapter was given.
- :class:`SCMRequestFailedError`: any other 4xx (409 empty repository, 451, ...) →
  ``failed_precondition``; 410 counts as 404.
- :class:`SCMUnsupportedError`: an SCM without an adapter → ``unimplemented``.

:class:`ResourceExhaustedError` and :class:`UnavailableError` are defined here because
``domain/errors.py`` has no such classes yet; the error table needs a row for each.

Messages name the host and the resource and never contain a token, an ``Authorization``
header or a client secret: adapters build them from fixed text plus host, owner, repository,
branch or pull request names, never from headers or response bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from runnerkit.server.domain.errors import (
    DomainError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnavailableError,
    UnimplementedError,
)

__all__ = [
    "AccessResult",
    "Org",
    "OrgPage",
    "PullRequestInfo",
    "PullRequestState",
    "Repo",
    "RepoPage",
    "ResourceExhaustedError",
    "SCMAdapter",
    "SCMAuthRequiredError",
    "SCMBadRequestError",
    "SCMError",
    "SCMNotFoundError",
    "SCMPermissionDeniedError",
    "SCMRateLimitedError",
    "SCMRequestFailedError",
    "SCMUnavailableError",
    "SCMUnsupportedError",
    "SearchMode",
    "UnavailableError",
]

SearchMode = Literal["keyword", "native"]
PullRequestState = Literal["open", "closed", "merged"]


class SCMError(DomainError):
    """Base of the errors an SCM adapter raises (mixed into a domain error class)."""


class SCMAuthRequiredError(SCMError, FailedPreconditionError):
    """The SCM wants (new) authentication: no token, or it was rejected or has expired."""


class SCMPermissionDeniedError(SCMError, PermissionDeniedError):
    """The SCM refused the token for this resource (HTTP 403, not a rate limit)."""


class SCMNotFoundError(SCMError, NotFoundError):
    """The repository, branch or pull request does not exist (or is hidden from the token)."""


class SCMBadRequestError(SCMError, InvalidArgumentError):
    """The SCM rejected the request as malformed (400, 422), e.g. a native search query."""


class SCMRequestFailedError(SCMError, FailedPreconditionError):
    """The SCM answered another 4xx that no retry will fix (409, 451, ...)."""


class SCMUnsupportedError(SCMError, UnimplementedError):
    """No adapter exists for the SCM (e.g. Bitbucket, Azure DevOps)."""


class SCMRateLimitedError(SCMError, ResourceExhaustedError):
    """The SCM's rate limit is used up.

    Attributes:
        reset_at: When the limit resets (aware UTC), if the SCM said so.
    """

    def __init__(self, host: str, reset_at: datetime | None) -> None:
        self.reset_at = reset_at
        when = (
            f"; it resets at {reset_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
            if reset_at is not None
            else "; retry later"
        )
        super().__init__(f"rate limit of {host} exceeded{when}")


class SCMUnavailableError(SCMError, UnavailableError):
    """The SCM failed (5xx), timed out or could not be reached.

    Attributes:
        retry_after_s: Seconds to wait before retrying, if the SCM said so.
    """

    def __init__(self, host: str, reason: str, retry_after_s: float | None = None) -> None:
        self.retry_after_s = retry_after_s
        hint = f"; retry in {retry_after_s:g} s" if retry_after_s is not None else "; retry later"
        super().__init__(f"{host} is unavailable: {reason}{hint}")


@dataclass(frozen=True)
class AccessResult:
    """Whether the token can read a repository.

    Attributes:
        has_access: True when it can.
        error_message: Why not; empty when ``has_access``.
    """

    has_access: bool
    error_message: str = ""


@dataclass(frozen=True)
class Org:
    """An organisation (GitHub) or group (GitLab) the caller belongs to.

    Attributes:
        name: Login (GitHub) or full path (GitLab), e.g. ``gitpod-io`` or ``group/sub``.
        url: Web URL of the organisation.
        is_admin: Whether the caller administers it (GitHub role admin, GitLab owner).
    """

    name: str
    url: str
    is_admin: bool


@dataclass(frozen=True)
class OrgPage:
    """One page of organisations.

    Attributes:
        orgs: The organisations of this page (may be short when filtered by a query).
        next_page: Number of the next page; None on the last page.
    """

    orgs: list[Org]
    next_page: int | None


@dataclass(frozen=True)
class Repo:
    """A repository found by a search.

    Attributes:
        name: Repository name (slug), e.g. ``my-project``.
        url: Web URL of the repository.
    """

    name: str
    url: str


@dataclass(frozen=True)
class RepoPage:
    """One page of a repository search.

    Attributes:
        repos: The repositories of this page.
        page: This page's number (1-based).
        total_pages: Number of pages; -1 when the SCM does not say.
        total_count: Number of matches; -1 when the SCM does not say.
        next_page: Number of the next page; None on the last page.
    """

    repos: list[Repo]
    page: int
    total_pages: int
    total_count: int
    next_page: int | None


@dataclass(frozen=True)
class PullRequestInfo:
    """A pull request (GitHub) or merge request (GitLab).

    Attributes:
        number: Its number (GitHub) or iid (GitLab).
        title: Title.
        author: Login or username of the author.
        from_branch: Source branch.
        to_branch: Target branch.
        state: ``open``, ``closed`` or ``merged`` (GitLab ``locked`` counts as open).
        draft: Whether it is a draft.
        url: Web URL.
        head_sha: Commit at the head of the source branch.
    """

    number: int
    title: str
    author: str
    from_branch: str
    to_branch: str
    state: PullRequestState
    draft: bool
    url: str
    head_sha: str


class SCMAdapter(Protocol):
    """The REST operations the RPCs need from one SCM host.

    Every method takes the caller's plain host token (empty: anonymous) and raises the errors
    in the module docstring; ``owner`` is a user, organisation or (GitLab) group path.
    """

    @property
    def scm_id(self) -> str:
        """The SCM's id, "github" or "gitlab"."""
        ...

    @property
    def host(self) -> str:
        """The normalised host the adapter talks to, e.g. ``github.com``."""
        ...

    def check_repository_access(self, token: str, owner: str, repo: str) -> AccessResult:
        """Whether the token can read ``owner/repo``; 404 and 403 are answers, not errors.

        Raises:
            SCMAuthRequiredError: The token is missing, invalid or expired (401).
        """
        ...

    def repository_exists(self, token: str, owner: str, repo: str) -> bool:
        """Whether ``owner/repo`` exists for the token (False on 404)."""
        ...

    def branch_exists(self, token: str, owner: str, repo: str, branch: str) -> bool:
        """Whether the branch exists.

        Raises:
            SCMNotFoundError: The repository itself is missing.
        """
        ...

    def get_pull_request(self, token: str, owner: str, repo: str, number: int) -> PullRequestInfo:
        """The pull/merge request ``number`` of ``owner/repo``.

        Raises:
            SCMNotFoundError: The repository or the request is missing.
        """
        ...

    def list_organizations(
        self, token: str, *, query: str = "", page: int = 1, per_page: int = 25
    ) -> OrgPage:
        """One page of the caller's organisations, narrowed by ``query`` (name substring)."""
        ...

    def search_repositories(
        self, token: str, *, search: str, mode: SearchMode, page: int = 1, per_page: int = 25
    ) -> RepoPage:
        """One page of repositories matching ``search`` read as ``mode``."""
        ...
