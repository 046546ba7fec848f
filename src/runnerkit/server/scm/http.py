"""HTTP plumbing shared by the adapters: one pooled client, error mapping.

The configuration and the base URLs of hosts live in ``scm/config.py`` (re-exported here), so
that the server loads httpx only when it first talks to an SCM.

Client. :func:`make_client` builds the one ``httpx.Client`` the server shares between
adapters: a bounded connection pool, the configured timeout on each phase of a request (connect,
write, read, pool wait). Redirects: :func:`send` follows at most 5, and only within the origin
(scheme, host and port) of the first request — GitHub redirects a renamed repository within its
API. A redirect anywhere else is never followed (it could point the server, its token or an
OAuth client secret at any address) and is :class:`SCMRequestFailedError`. httpx's own INFO
line per request (the full URL with its query string) is silenced: its logger is set to
WARNING.

Errors. :func:`send` performs one request and turns failures into the errors of
``scm/base.py``:

- 429, or 403 with ``x-ratelimit-remaining: 0`` or a ``retry-after`` header →
  :class:`SCMRateLimitedError`, reset from ``x-ratelimit-reset`` (GitHub) or
  ``ratelimit-reset`` (GitLab) epoch seconds, else now + ``retry-after``;
- 401 → :class:`SCMAuthRequiredError`; other 403 → :class:`SCMPermissionDeniedError`;
- 404, 410 → :class:`SCMNotFoundError`; 400, 422 → :class:`SCMBadRequestError`; other 4xx →
  :class:`SCMRequestFailedError`;
- a redirect out of the origin, or more than 5 → :class:`SCMRequestFailedError`;
- 5xx (and anything else), timeouts and transport errors → :class:`SCMUnavailableError`, with
  ``retry-after`` seconds when given.

Secrets: the token travels only in the ``Authorization`` header and is checked to be printable
ASCII first (h11 would quote an invalid header value in its error). Transport exceptions are
not chained (``from None``); log lines carry only method, host, path and status.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx

from runnerkit.server.scm.base import (
    SCMAuthRequiredError,
    SCMBadRequestError,
    SCMNotFoundError,
    SCMPermissionDeniedError,
    SCMRateLimitedError,
    SCMRequestFailedError,
    SCMUnavailableError,
)
from runnerkit.server.scm.config import (
    DEFAULT_TIMEOUT_S,
    SCMConfig,
    api_base_url,
    web_base_url,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MAX_REDIRECTS",
    "SCMConfig",
    "api_base_url",
    "field_of",
    "int_header",
    "json_list",
    "json_object",
    "link_pages",
    "make_client",
    "send",
    "text",
    "web_base_url",
]

MAX_REDIRECTS = 5
_USER_AGENT = "runnerkit-scm"
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]*)"')
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces
_log = logging.getLogger("runnerkit.server.scm")


def make_client(config: SCMConfig | None = None) -> httpx.Client:
    """The pooled HTTP client the adapters share; close it when the server stops.

    Args:
        config: Timeout and pool size; None for the defaults.

    Returns:
        An ``httpx.Client`` with the timeout on every phase and a bounded pool.
    """
    config = config or SCMConfig()
    # httpx logs every request's full URL (query string included) at INFO; ours log less.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return httpx.Client(
        timeout=httpx.Timeout(config.timeout_s),
        limits=httpx.Limits(
            max_connections=config.max_connections,
            max_keepalive_connections=config.max_connections,
        ),
        follow_redirects=False,  # send() follows them within the origin only
        headers={"User-Agent": _USER_AGENT},
    )


def _seconds(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and number >= 0 else None


def _reset_at(response: httpx.Response, now: datetime) -> datetime | None:
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        epoch = _seconds(response.headers.get(name))
        if epoch is not None:
            try:
                return datetime.fromtimestamp(int(epoch), UTC)
            except (OverflowError, OSError, ValueError):
                return None
    after = _seconds(response.headers.get("retry-after"))
    return now + timedelta(seconds=after) if after is not None else None


def _is_rate_limit(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    return response.status_code == 403 and (
        response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers
    )


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    host: str,
    token: str,
    what: str,
    params: Mapping[str, str | int] | None = None,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    expect: tuple[int, ...] = (200,),
    field: str = "request",
    clock: Callable[[], datetime] | None = None,
) -> httpx.Response:
    """Perform one request and map failures to the SCM errors.

    Args:
        client: The pooled client.
        method: HTTP method.
        url: Absolute URL (may contain only public path data, never a secret).
        host: The SCM host, for messages.
        token: Sent as ``Authorization: Bearer``; empty sends no header.
        what: What is asked for, for messages, e.g. ``repository gitpod-io/gitpod``.
        params: Query parameters.
        data: Form body (OAuth refresh).
        headers: Extra headers.
        expect: Statuses returned to the caller rather than raised.
        field: The request field a 400/422 is blamed on (``SCMBadRequestError.field``).
        clock: Current time for ``retry-after`` arithmetic; defaults to the system clock.

    Returns:
        The response, whose status is in ``expect``.

    Raises:
        SCMAuthRequiredError: 401, or a token that cannot be sent (not printable ASCII).
        SCMPermissionDeniedError: 403 that is not a rate limit.
        SCMNotFoundError: 404, 410.
        SCMBadRequestError: 400, 422.
        SCMRequestFailedError: Any other 4xx.
        SCMRateLimitedError: 429, or 403 with the rate-limit headers.
        SCMUnavailableError: 5xx (or any other status), a timeout or a transport error.
    """
    all_headers = dict(headers or {})
    if token and not _TOKEN_CHARS.fullmatch(token):
        # httpx/h11 would reject it with an error that quotes the header value.
        raise SCMAuthRequiredError(f"the stored token for {host} is malformed; sign in again")
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    path = httpx.URL(url).path
    try:
        response = client.request(method, url, params=params, data=data, headers=all_headers)
        response = _follow_within_origin(client, response)
    except httpx.TimeoutException:
        _log.warning("SCM %s %s %s timed out", method, host, path)
        raise SCMUnavailableError(host, "the request timed out") from None
    except httpx.HTTPError as exc:
        _log.warning("SCM %s %s %s failed: %s", method, host, path, type(exc).__name__)
        raise SCMUnavailableError(host, "it could not be reached") from None
    status = response.status_code
    _log.debug("SCM %s %s %s -> %d", method, host, path, status)
    if status in expect:
        return response
    if response.has_redirect_location:
        _log.warning("SCM %s %s %s redirect not followed (HTTP %d)", method, host, path, status)
        raise SCMRequestFailedError(
            f"{host} redirected the request for {what} elsewhere; "
            "redirects are followed only within the same address"
        )
    if _is_rate_limit(response):
        now = clock() if clock else datetime.now(UTC)
        raise SCMRateLimitedError(host, _reset_at(response, now))
    if status == 401:
        raise SCMAuthRequiredError(f"{host} rejected the authentication token; sign in again")
    if status == 403:
        raise SCMPermissionDeniedError(f"{host} refused access to {what}")
    if status in (404, 410):
        raise SCMNotFoundError(f"{what} not found on {host}")
    if status in (400, 422):
        raise SCMBadRequestError(field, f"{host} rejected the request for {what} as invalid")
    if 400 <= status < 500:
        raise SCMRequestFailedError(f"{host} answered HTTP {status} for {what}")
    retry = _seconds(response.headers.get("retry-after"))
    _log.warning("SCM %s %s %s answered HTTP %d", method, host, path, status)
    raise SCMUnavailableError(host, f"HTTP {status} for {what}", retry)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _follow_within_origin(client: httpx.Client, response: httpx.Response) -> httpx.Response:
    """Follow up to :data:`MAX_REDIRECTS` redirects that stay in the first request's origin.

    Returns the first response that is not such a redirect: the final answer, a redirect
    elsewhere, or the last redirect when there were too many (the caller refuses both).
    """
    origin = _origin(response.request.url)
    for _ in range(MAX_REDIRECTS):
        target = response.next_request
        if target is None or _origin(target.url) != origin:
            return response
        response = client.send(target)
    return response


def json_object(response: httpx.Response, host: str) -> dict[str, object]:
    """The response body as a JSON object.

    Args:
        response: A successful response.
        host: The SCM host, for messages.

    Returns:
        The decoded object.

    Raises:
        SCMUnavailableError: The body is not a JSON object.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SCMUnavailableError(host, "it sent an unexpected answer")
    return body


def json_list(response: httpx.Response, host: str) -> list[dict[str, object]]:
    """The response body as a JSON list of objects (non-objects are dropped).

    Args:
        response: A successful response.
        host: The SCM host, for messages.

    Returns:
        The decoded objects.

    Raises:
        SCMUnavailableError: The body is not a JSON list.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, list):
        raise SCMUnavailableError(host, "it sent an unexpected answer")
    return [item for item in body if isinstance(item, dict)]


def text(value: object) -> str:
    """A JSON value as a string ("" for anything that is not one)."""
    return value if isinstance(value, str) else ""


def field_of(obj: object, *names: str) -> object:
    """Walk nested JSON objects by key; None where a level is missing."""
    for name in names:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(name)
    return obj


def int_header(response: httpx.Response, name: str) -> int | None:
    """A non-negative integer header, or None when absent or malformed."""
    value = response.headers.get(name, "").strip()
    return int(value) if value.isdigit() else None


def link_pages(response: httpx.Response) -> dict[str, int]:
    """Page numbers by relation (``next``, ``last``, ...) from an RFC 8288 ``Link`` header.

    Args:
        response: A paginated response (GitHub, GitLab).

    Returns:
        ``rel`` → the ``page`` query parameter of its URL; relations without one are left out.
    """
    pages: dict[str, int] = {}
    for url, rels in _LINK.findall(response.headers.get("link", "")):
        values = parse_qs(urlsplit(url).query).get("page", [])
        if values and values[0].isdigit():
            for rel in rels.split():
                pages[rel] = int(values[0])
    return pages
