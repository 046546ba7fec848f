"""CheckAuthenticationForHost: how a user can authenticate to an SCM host of a runner.

The answer comes from the runner's SCM integration for the host when there is one, else from
the catalog's default hosts (``scm_catalog``); hosts are compared after
``scm_catalog.normalize_host`` (lower case, no scheme, user info, path or default port).

- OAuth2 (``supports_oauth2``) is offered when the SCM supports it and either the host is a
  default host without an integration (the installation's own OAuth app) or the integration has
  an OAuth client id. ``auth_url`` is the SCM's authorization endpoint on the host (or on the
  integration's ``issuer_url``), with ``client_id`` when the integration has one.
- PATs (``supports_pat``) are offered when the SCM supports them and either the host is a
  default host without an integration or the integration allows PATs (``pat``).
- The deprecated ``authentication_url`` repeats ``supports_oauth2.auth_url`` (empty without
  OAuth) and ``pat_supported`` is true exactly when ``supports_pat`` is set.
- An unknown host (no integration, not a default host, or an SCM the catalog does not know)
  gets only ``authenticated = false``: a token for a host no SCM serves cannot be used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from runnerkit.server.domain.scm_catalog import (
    default_scm_for_host,
    find_integration,
    normalize_host,
    scm_info,
)
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from collections.abc import Sequence

    from runnerkit.server.domain.scm_catalog import SCMInfo, SCMIntegrationView

__all__ = ["check_authentication_for_host"]


def check_authentication_for_host(
    host: str, *, integrations: Sequence[SCMIntegrationView], authenticated: bool
) -> runner_pb2.CheckAuthenticationForHostResponse:
    """Describes how to authenticate to a host of a runner.

    Args:
        host: The host as the caller gave it (normalised here; never rejected).
        integrations: The runner's SCM integrations.
        authenticated: Whether the caller holds an unexpired host authentication token for this
            runner and host (looked up by the caller).

    Returns:
        The response: ``scm_id``, ``scm_name``, the support blocks and deprecated fields as the
        module docstring describes, and ``authenticated`` as passed (false for unknown hosts).
    """
    normal = normalize_host(host)
    integration = find_integration(normal, integrations)
    scm_id = integration.scm_id if integration is not None else default_scm_for_host(normal)
    info = scm_info(scm_id) if scm_id is not None else None
    if info is None:
        return runner_pb2.CheckAuthenticationForHostResponse(authenticated=False)

    response = runner_pb2.CheckAuthenticationForHostResponse(
        authenticated=authenticated, scm_id=info.scm_id, scm_name=info.name
    )
    client_id = integration.oauth_client_id if integration is not None else None
    oauth = info.supports_oauth and (integration is None or bool(client_id))
    pat = info.supports_pat and (integration is None or integration.pat)
    if oauth:
        issuer = integration.issuer_url if integration is not None else None
        auth_url = _auth_url(info, normal, issuer, client_id)
        response.supports_oauth2.auth_url = auth_url
        response.supports_oauth2.docs_url = info.oauth_docs_url or ""
        response.authentication_url = auth_url
    if pat:
        response.supports_pat.create_url = (info.pat_create_url or "").format(host=normal)
        response.supports_pat.docs_url = info.pat_docs_url
        response.supports_pat.example = info.pat_example
        response.supports_pat.required_scopes.extend(info.pat_required_scopes)
        response.pat_supported = True
    return response


def _auth_url(info: SCMInfo, host: str, issuer_url: str | None, client_id: str | None) -> str:
    base = issuer_url.rstrip("/") if issuer_url else f"https://{host}"
    url = info.oauth_authorize_url.format(base=base, host=host)
    if client_id:
        url += "?" + urlencode({"client_id": client_id})
    return url
