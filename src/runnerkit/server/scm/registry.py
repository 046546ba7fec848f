"""Pick the adapter for an SCM and host, over one shared pooled HTTP client.

The registry owns the client (unless one is given) and caches one adapter per
``(scm_id, host)``. The client and the adapters (and with them httpx) are loaded on the first
SCM call, not when the server starts: a server whose clients never call an SCM does without. SCMs without a REST adapter (Bitbucket, Azure DevOps) raise
:class:`~runnerkit.server.scm.base.SCMUnsupportedError` (``unimplemented``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Self

from runnerkit.server.domain.scm_catalog import normalize_host
from runnerkit.server.scm.base import SCMUnsupportedError
from runnerkit.server.scm.config import SCMConfig
from runnerkit.server.scm.refresh import RefreshedToken, refresh_oauth_token

if TYPE_CHECKING:
    from types import TracebackType

    import httpx

    from runnerkit.server.scm.base import SCMAdapter

__all__ = ["SUPPORTED_SCMS", "SCMRegistry"]

SUPPORTED_SCMS = ("github", "gitlab")


class SCMRegistry:
    """Adapters by ``(scm_id, host)``; a context manager that closes its own client.

    Args:
        config: Base URL overrides and client settings; None for the defaults.
        client: A client to use instead of building one (not closed by the registry).
    """

    def __init__(self, config: SCMConfig | None = None, client: httpx.Client | None = None) -> None:
        self.config = config or SCMConfig()
        self._own_client = client is None
        self._client = client
        self._closed = False
        self._adapters: dict[tuple[str, str], SCMAdapter] = {}
        self._lock = threading.Lock()
        self._client_lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        """The shared client: the one given, else built on first use.

        Raises:
            RuntimeError: The registry was closed.
        """
        client = self._client
        if client is not None:
            return client
        with self._client_lock:
            if self._closed:
                raise RuntimeError("the SCM registry is closed")
            if self._client is None:
                from runnerkit.server.scm.http import make_client  # noqa: PLC0415 - on use

                self._client = make_client(self.config)
            return self._client

    def adapter(self, scm_id: str, host: str) -> SCMAdapter:
        """The adapter for a host of an SCM.

        Args:
            scm_id: "github" or "gitlab" (others raise).
            host: The host, normalised or not.

        Returns:
            A cached adapter.

        Raises:
            SCMUnsupportedError: No adapter exists for ``scm_id``.
        """
        key = (scm_id, normalize_host(host))
        with self._lock:
            found = self._adapters.get(key)
            if found is None:
                found = self._build(*key)
                self._adapters[key] = found
            return found

    def _build(self, scm_id: str, host: str) -> SCMAdapter:
        if scm_id == "github":
            from runnerkit.server.scm.github import GitHubAdapter  # noqa: PLC0415 - on use

            return GitHubAdapter(self.client, host, self.config)
        if scm_id == "gitlab":
            from runnerkit.server.scm.gitlab import GitLabAdapter  # noqa: PLC0415 - on use

            return GitLabAdapter(self.client, host, self.config)
        raise SCMUnsupportedError(f"{scm_id or 'this SCM'} is not supported for {host} yet")

    def refresh(
        self,
        scm_id: str,
        host: str,
        *,
        refresh_token: str,
        client_id: str,
        client_secret: str,
        issuer_url: str | None = None,
    ) -> RefreshedToken:
        """Refresh an OAuth token (see ``scm/refresh.py``) with this registry's client.

        Args:
            scm_id: "github" or "gitlab".
            host: The SCM host.
            refresh_token: The stored refresh token.
            client_id: The OAuth app's client id.
            client_secret: The OAuth app's client secret.
            issuer_url: The integration's issuer URL, if any.

        Returns:
            The new tokens.
        """
        return refresh_oauth_token(
            self.client,
            scm_id,
            host,
            refresh_token=refresh_token,
            client_id=client_id,
            client_secret=client_secret,
            config=self.config,
            issuer_url=issuer_url,
        )

    def close(self) -> None:
        """Close the client if the registry built it (a later call raises ``RuntimeError``)."""
        with self._client_lock:
            self._closed = True
            client, own = self._client, self._own_client
        if own and client is not None:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
