"""SCM adapters: GitHub and GitLab REST APIs behind one Protocol.

``base`` holds the :class:`SCMAdapter` Protocol, its result types and errors; ``http`` the
configuration, the pooled client and the error mapping; ``github`` and ``gitlab`` the adapters;
``registry`` picks an adapter for an ``(scm_id, host)``; ``search_tokens`` the
SearchRepositories paging rules; ``refresh`` OAuth token refresh.
"""

from __future__ import annotations

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
from runnerkit.server.scm.http import SCMConfig, api_base_url, make_client, web_base_url
from runnerkit.server.scm.refresh import RefreshedToken, needs_refresh, supports_refresh
from runnerkit.server.scm.registry import SUPPORTED_SCMS, SCMRegistry

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
