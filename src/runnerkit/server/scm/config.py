"""How the server reaches SCM hosts: :class:`SCMConfig` and the base URLs of a host.

Base URLs. The REST API base of a host is derived from it: ``github.com`` →
``https://api.github.com``; any other GitHub host (GitHub Enterprise Server) →
``https://HOST/api/v3``; a GitLab host → ``https://HOST/api/v4``. The web base used for OAuth
token refresh and for web URLs is ``https://HOST``. :class:`SCMConfig` maps hosts to other
bases (tests point them at a stub on loopback; an operator at a proxy).

No HTTP here: the wiring of the server needs this module, the HTTP client (``scm/http.py``)
is loaded on the first SCM call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runnerkit.server.domain.scm_catalog import normalize_host

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DEFAULT_TIMEOUT_S", "SCMConfig", "api_base_url", "web_base_url"]

DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SCMConfig:
    """How the server reaches SCM hosts.

    Attributes:
        api_base_urls: Host → REST API base URL, overriding the derived one (e.g.
            ``{"github.com": "http://127.0.0.1:4321"}``). Keys are normalised on lookup.
        web_base_urls: Host → web base URL (OAuth endpoints), overriding ``https://HOST``.
        timeout_s: Time allowed for each phase of a request (connect, write, read, pool wait).
        max_connections: Size of the connection pool.
    """

    api_base_urls: Mapping[str, str] = field(default_factory=dict)
    web_base_urls: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_connections: int = 20


def _override(mapping: Mapping[str, str], host: str) -> str | None:
    for key, value in mapping.items():
        if normalize_host(key) == host:
            return value.rstrip("/")
    return None


def api_base_url(scm_id: str, host: str, config: SCMConfig | None = None) -> str:
    """The REST API base URL of a host (no trailing slash).

    Args:
        scm_id: "github" or "gitlab".
        host: The SCM host, normalised or not.
        config: Overrides; None for the derived defaults.

    Returns:
        The configured override, else the derived base (see the module docstring).

    Raises:
        ValueError: ``scm_id`` has no REST API known here.
    """
    host = normalize_host(host)
    found = _override(config.api_base_urls, host) if config else None
    if found is not None:
        return found
    if scm_id == "github":
        return "https://api.github.com" if host == "github.com" else f"https://{host}/api/v3"
    if scm_id == "gitlab":
        return f"https://{host}/api/v4"
    msg = f"no REST API known for SCM {scm_id!r}"
    raise ValueError(msg)


def web_base_url(host: str, config: SCMConfig | None = None, issuer_url: str | None = None) -> str:
    """The web base URL of a host (OAuth endpoints live under it).

    Args:
        host: The SCM host.
        config: Overrides; None for the default.
        issuer_url: The SCM integration's issuer URL, used when set and not overridden.

    Returns:
        The override, else ``issuer_url``, else ``https://HOST``.
    """
    host = normalize_host(host)
    found = _override(config.web_base_urls, host) if config else None
    if found is not None:
        return found
    return issuer_url.rstrip("/") if issuer_url else f"https://{host}"
