"""SCM adapters: GitHub and GitLab REST APIs behind one Protocol.

``base`` holds the :class:`SCMAdapter` Protocol, its result types and errors; ``config`` the
settings and the base URLs of hosts; ``http`` the pooled client and the error mapping; ``github`` and ``gitlab`` the adapters;
``registry`` picks an adapter for an ``(scm_id, host)``; ``search_tokens`` the
SearchRepositories paging rules; ``refresh`` OAuth token refresh. ``http``, the adapters and
httpx are imported on the first SCM call (or the first use of ``make_client``), not at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runnerkit.server.scm.base import (
    AccessResult,
    Org,
    OrgPage,
    PullRequestInfo,
    Repo,
    RepoPage,
    ResourceExhaustedError,
    SCMAdapter,
    SCMAuthRequiredError,
    SCMBadRequestError,
    SCMError,
    SCMNotFoundError,
    SCMPermissionDeniedError,
    SCMRateLimitedError,
    SCMRequestFailedError,
    SCMUnavailableError,
    SCMUnsupportedError,
    UnavailableError,
)
from runnerkit.server.scm.config import SCMConfig, api_base_url, web_base_url
from runnerkit.server.scm.refresh import RefreshedToken, needs_refresh, supports_refresh
from runnerkit.server.scm.registry import SUPPORTED_SCMS, SCMRegistry

if TYPE_CHECKING:
    from runnerkit.server.scm.http import make_client

__all__ = [
    "SUPPORTED_SCMS",
    "AccessResult",
    "Org",
    "OrgPage",
    "PullRequestInfo",
    "RefreshedToken",
    "Repo",
    "RepoPage",
    "ResourceExhaustedError",
    "SCMAdapter",
    "SCMAuthRequiredError",
    "SCMBadRequestError",
    "SCMConfig",
    "SCMError",
    "SCMNotFoundError",
    "SCMPermissionDeniedError",
    "SCMRateLimitedError",
    "SCMRegistry",
    "SCMRequestFailedError",
    "SCMUnavailableError",
    "SCMUnsupportedError",
    "UnavailableError",
    "api_base_url",
    "make_client",
    "needs_refresh",
    "supports_refresh",
    "web_base_url",
]


def __getattr__(name: str) -> object:
    if name == "make_client":
        from runnerkit.server.scm import http  # noqa: PLC0415 - httpx only when used

        return http.make_client
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
