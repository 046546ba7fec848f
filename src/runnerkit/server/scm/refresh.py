"""Refresh of expired OAuth host tokens with the stored refresh token.

Both supported SCMs implement the OAuth 2.0 ``refresh_token`` grant (RFC 6749 §6), with a form
POST carrying ``grant_type=refresh_token``, the refresh token and the OAuth app's client id
and secret:

- GitHub (and GitHub Enterprise Server): ``POST {web}/login/oauth/access_token`` with
  ``Accept: application/json``. Only GitHub Apps with expiring user tokens hand out refresh
  tokens. GitHub answers HTTP 200 even on failure, with an ``error`` member
  (``bad_refresh_token``, ``incorrect_client_credentials``, ...).
- GitLab: ``POST {web}/oauth/token``; failures are 400/401 with an ``error`` member
  (``invalid_grant``, ``invalid_client``).

``{web}`` is ``https://HOST``, the integration's ``issuer_url``, or a configured override
(``SCMConfig.web_base_urls``). A rejected refresh token or client is :class:`SCMAuthRequiredError`
(the user must sign in again); outages and rate limits are mapped as for any SCM call. The
result's ``repr`` hides both tokens, and no message ever contains the refresh token or secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from runnerkit.server.domain.scm_catalog import normalize_host
from runnerkit.server.scm.base import SCMAuthRequiredError, SCMUnsupportedError
from runnerkit.server.scm.config import web_base_url

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from runnerkit.server.scm.config import SCMConfig

__all__ = [
    "REFRESH_SKEW",
    "RefreshedToken",
    "needs_refresh",
    "refresh_oauth_token",
    "supports_refresh",
]

REFRESH_SKEW = timedelta(seconds=60)
_PATHS = {"github": "/login/oauth/access_token", "gitlab": "/oauth/token"}


@dataclass(frozen=True)
class RefreshedToken:
    """The outcome of a refresh.

    Attributes:
        access_token: The new access token (hidden from ``repr``).
        expires_at: When it expires (aware UTC); None when the SCM gave no lifetime.
        refresh_token: The refresh token to store from now on (hidden from ``repr``); the old
            one when the SCM did not rotate it.
        scopes: Scopes the SCM reported, if any.
    """

    access_token: str = field(repr=False)
    expires_at: datetime | None
    refresh_token: str = field(repr=False)
    scopes: tuple[str, ...] = ()


def supports_refresh(scm_id: str) -> bool:
    """Whether the SCM's tokens can be refreshed here ("github", "gitlab")."""
    return scm_id in _PATHS


def needs_refresh(
    expires_at: datetime | None, now: datetime, skew: timedelta = REFRESH_SKEW
) -> bool:
    """Whether a token should be refreshed before use.

    Args:
        expires_at: The token's expiry; None for tokens that do not expire.
        now: The current time (aware).
        skew: Refresh this long before the expiry.

    Returns:
        True when the token expires within ``skew``.
    """
    return expires_at is not None and expires_at - skew <= now


def refresh_oauth_token(
    client: httpx.Client,
    scm_id: str,
    host: str,
    *,
    refresh_token: str,
    client_id: str,
    client_secret: str,
    config: SCMConfig | None = None,
    issuer_url: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> RefreshedToken:
    """Trade a refresh token for a new access token.

    Args:
        client: The pooled client.
        scm_id: "github" or "gitlab".
        host: The SCM host.
        refresh_token: The stored (decrypted) refresh token.
        client_id: The OAuth app's client id.
        client_secret: The OAuth app's (decrypted) client secret.
        config: Web base URL overrides.
        issuer_url: The integration's issuer URL, if it has one.
        clock: Current time; defaults to the system clock.

    Returns:
        The new tokens and expiry.

    Raises:
        SCMUnsupportedError: The SCM has no refresh support here.
        SCMAuthRequiredError: No refresh token, or the SCM rejected it or the client.
        SCMRateLimitedError: The SCM's rate limit is used up.
        SCMUnavailableError: The SCM failed or did not answer.
    """
    from runnerkit.server.scm.http import json_object, send, text  # noqa: PLC0415 - httpx: on use

    host = normalize_host(host)
    if scm_id not in _PATHS:
        raise SCMUnsupportedError(f"token refresh is not supported for {scm_id}")
    if not refresh_token:
        raise SCMAuthRequiredError(
            f"the token for {host} expired and cannot be refreshed; sign in again"
        )
    now = (clock or (lambda: datetime.now(UTC)))()
    response = send(
        client,
        "POST",
        web_base_url(host, config, issuer_url) + _PATHS[scm_id],
        host=host,
        token="",
        what="token refresh",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        },
        headers={"Accept": "application/json"},
        expect=(200, 400, 401),
        clock=clock,
    )
    body = json_object(response, host)
    access = text(body.get("access_token"))
    if response.status_code != 200 or "error" in body or not access:
        raise SCMAuthRequiredError(f"{host} rejected the token refresh; sign in again")
    lifetime = body.get("expires_in")
    expires_at = (
        now + timedelta(seconds=lifetime)
        if isinstance(lifetime, int) and not isinstance(lifetime, bool) and lifetime > 0
        else None
    )
    scope = text(body.get("scope"))
    return RefreshedToken(
        access_token=access,
        expires_at=expires_at,
        refresh_token=text(body.get("refresh_token")) or refresh_token,
        scopes=tuple(s for s in scope.replace(",", " ").split() if s),
    )
