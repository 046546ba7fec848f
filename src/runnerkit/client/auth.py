"""Client configuration from the environment, and the bearer-token interceptor.

The token comes from the ``bearer_token`` argument, else ``GITPOD_API_KEY``, else the
client refuses to be built (:class:`~runnerkit.client.errors.ConfigurationError`). It is
sent as ``Authorization: Bearer <token>`` on every call — also by the generated clients the
facade exposes — and never appears in ``repr()`` or log output.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from runnerkit.client.errors import ConfigurationError

if TYPE_CHECKING:
    from connectrpc.request import RequestContext

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "BearerAuth",
    "resolve_base_url",
    "resolve_token",
]

API_KEY_ENV = "GITPOD_API_KEY"
BASE_URL_ENV = "GITPOD_BASE_URL"
DEFAULT_BASE_URL = "https://app.gitpod.io/api"


def resolve_token(bearer_token: str | None) -> str:
    """Return the explicit token, else ``$GITPOD_API_KEY``.

    Args:
        bearer_token: The token passed to the client, if any.

    Returns:
        The token to send.

    Raises:
        ConfigurationError: Neither the argument nor the environment variable is set.
    """
    token = bearer_token if bearer_token is not None else os.environ.get(API_KEY_ENV)
    if not token:
        raise ConfigurationError(
            f"no bearer token: pass bearer_token=... or set the {API_KEY_ENV} environment variable"
        )
    if any(c in token for c in "\r\n"):
        raise ConfigurationError("the bearer token must not contain line breaks")
    return token


def resolve_base_url(base_url: str | None) -> str:
    """Return the explicit base URL, else ``$GITPOD_BASE_URL``, else the public API.

    Args:
        base_url: The URL passed to the client, if any (e.g. ``http://127.0.0.1:8080``).

    Returns:
        The URL without a trailing slash; RPC paths are appended to it.

    Raises:
        ConfigurationError: The URL is not http(s).
    """
    url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base URL must start with http:// or https://, got {url!r}")
    return url.rstrip("/")


class BearerAuth:
    """Metadata interceptor (sync and async) that adds ``Authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        self.__token = token

    def __repr__(self) -> str:
        return "BearerAuth(token='***')"

    def _apply(self, ctx: RequestContext[object, object]) -> None:
        ctx.request_headers["authorization"] = f"Bearer {self.__token}"

    async def on_start(self, ctx: RequestContext[object, object]) -> None:
        """Set the header before an async call.

        Args:
            ctx: The request context of the call.
        """
        self._apply(ctx)

    async def on_end(
        self, token: None, ctx: RequestContext[object, object], error: Exception | None
    ) -> None:
        """Nothing to do after the call.

        Args:
            token: Unused.
            ctx: Unused.
            error: Unused.
        """

    def on_start_sync(self, ctx: RequestContext[object, object]) -> None:
        """Set the header before a sync call.

        Args:
            ctx: The request context of the call.
        """
        self._apply(ctx)

    def on_end_sync(
        self, token: None, ctx: RequestContext[object, object], error: Exception | None
    ) -> None:
        """Nothing to do after the call.

        Args:
            token: Unused.
            ctx: Unused.
            error: Unused.
        """
