"""``RESTAdapter``: what the GitHub and GitLab adapters share.

The host and API base URL, authenticated GETs, and the repository checks that differ only in
the SCM's path for a repository.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from runnerkit.server.domain.scm_catalog import normalize_host
from runnerkit.server.scm.base import AccessResult, SCMNotFoundError, SCMPermissionDeniedError
from runnerkit.server.scm.http import api_base_url, send

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

    from runnerkit.server.scm.http import SCMConfig

__all__ = ["RESTAdapter"]


class RESTAdapter(ABC):
    """What the GitHub and GitLab adapters share: host, API base URL and authenticated GETs.

    Subclasses set ``SCM_ID`` (which also picks the derived API base URL), ``REPO_NOUN`` (what
    the SCM calls a repository, for messages), ``_repo_path`` (the API path of a repository)
    and, if their API wants them, ``HEADERS`` sent with every request.

    Args:
        client: The shared pooled client.
        host: The SCM host (normalised here).
        config: Base URL overrides; None for the derived ones.
    """

    SCM_ID: ClassVar[str]
    REPO_NOUN: ClassVar[str]
    HEADERS: ClassVar[Mapping[str, str] | None] = None

    def __init__(self, client: httpx.Client, host: str, config: SCMConfig | None = None) -> None:
        self._client = client
        self._host = normalize_host(host)
        self._api = api_base_url(self.SCM_ID, self._host, config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self._host!r}, api={self._api!r})"

    @property
    def scm_id(self) -> str:
        """The SCM's id in the catalog (``github``, ``gitlab``)."""
        return self.SCM_ID

    @property
    def host(self) -> str:
        """The normalised host."""
        return self._host

    @property
    def api_base(self) -> str:
        """The REST API base URL in use."""
        return self._api

    def _get(
        self,
        token: str,
        path: str,
        what: str,
        params: dict[str, str | int] | None = None,
        *,
        expect: tuple[int, ...] = (200,),
        field: str = "request",
    ) -> httpx.Response:
        return send(
            self._client,
            "GET",
            self._api + path,
            host=self._host,
            token=token,
            what=what,
            params=params,
            headers=self.HEADERS,
            expect=expect,
            field=field,
        )

    @abstractmethod
    def _repo_path(self, owner: str, repo: str) -> str:
        """The API path of repository ``owner/repo`` (no trailing slash)."""

    def check_repository_access(self, token: str, owner: str, repo: str) -> AccessResult:
        """Whether the token can read ``owner/repo``; why not, when it cannot.

        Args:
            token: The caller's host token.
            owner: User, organisation or group path.
            repo: Repository (project) name.

        Returns:
            ``has_access`` and, when False, why. A missing or hidden repository and a refused
            token are answers, not errors; a token the SCM rejects raises.
        """
        name = f"{self.REPO_NOUN} {owner}/{repo}"
        try:
            self._get(token, self._repo_path(owner, repo), name)
        except SCMNotFoundError:
            return AccessResult(False, f"{name} not found on {self._host}, or no access")
        except SCMPermissionDeniedError:
            return AccessResult(False, f"{self._host} refused access to {name}")
        return AccessResult(True)

    def repository_exists(self, token: str, owner: str, repo: str) -> bool:
        """Whether ``owner/repo`` exists for the token (False on 404)."""
        response = self._get(
            token,
            self._repo_path(owner, repo),
            f"{self.REPO_NOUN} {owner}/{repo}",
            expect=(200, 404),
        )
        return response.status_code == 200
