"""The SCM catalog: what the server knows about each source control system, as data.

One :class:`SCMInfo` per ``scm_id`` ("github", "gitlab", "bitbucket", "azuredevops") with its
display name, default hosts, OAuth and personal-access-token (PAT) help. The configuration
schema (``config_schema``), CheckAuthenticationForHost (``host_auth``) and ParseContextURL
(``context_urls``) all read this one table, so a host, URL or scope is written down once.

URL templates may contain ``{host}`` (the normalised host, see :func:`normalize_host`) and, for
OAuth, ``{base}`` (the integration's ``issuer_url`` when set, else ``https://{host}``).

Host names are compared after :func:`normalize_host`: lower case, no scheme, no user info, no
path, no trailing dot, and no default port (443, 80). Any other port is kept, so
``git.example.com:8443`` is a different host from ``git.example.com``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "CATALOG",
    "SCMInfo",
    "SCMIntegrationView",
    "azure_visualstudio_org",
    "default_scm_for_host",
    "find_integration",
    "normalize_host",
    "scm_for_host",
    "scm_info",
]


@dataclass(frozen=True)
class SCMInfo:
    """What the server knows about one source control system.

    Attributes:
        scm_id: Identifier used in the API ("github", ...).
        name: Display name ("GitHub", ...).
        default_hosts: Hosts the SCM serves without an integration.
        oauth_docs_url: Documentation on OAuth apps; None if OAuth is not supported.
        oauth_authorize_url: Template of the OAuth authorization endpoint.
        oauth_callback_url: Redirect URL to register with the OAuth app (shown in the schema).
        pat_create_url: Template of the page where users create a PAT; None if PATs are not
            supported.
        pat_docs_url: Documentation on creating a PAT.
        pat_description: Human-readable description of the PAT (shown in the schema).
        pat_example: The shape of a PAT, never a real one.
        pat_required_scopes: Scopes the PAT must be granted.
    """

    scm_id: str
    name: str
    default_hosts: tuple[str, ...]
    oauth_docs_url: str | None
    oauth_authorize_url: str
    oauth_callback_url: str
    pat_create_url: str | None
    pat_docs_url: str
    pat_description: str
    pat_example: str
    pat_required_scopes: tuple[str, ...]

    @property
    def supports_oauth(self) -> bool:
        """Whether the SCM supports OAuth sign-in."""
        return self.oauth_docs_url is not None

    @property
    def supports_pat(self) -> bool:
        """Whether the SCM accepts personal access tokens."""
        return self.pat_create_url is not None


@dataclass(frozen=True)
class SCMIntegrationView:
    """The parts of a runner's SCM integration that the domain rules need.

    Attributes:
        scm_id: The integration's SCM ("github", ...).
        host: The integration's host as stored (normalised again on comparison).
        oauth_client_id: OAuth app client id; None or empty when OAuth is not configured.
        pat: Whether users may authenticate with personal access tokens.
        issuer_url: Overrides the OAuth provider URL when it differs from the host.
    """

    scm_id: str
    host: str
    oauth_client_id: str | None
    pat: bool
    issuer_url: str | None = None


_GITHUB_SCOPES = ("repo", "read:user", "user:email", "workflow")
_GITLAB_SCOPES = ("api", "read_repository", "read_user")
_BITBUCKET_SCOPES = (
    "read:user:bitbucket",
    "read:repository:bitbucket",
    "write:repository:bitbucket",
    "read:pullrequest:bitbucket",
)
_AZURE_SCOPES = ("vso.code_write", "vso.profile")

CATALOG: tuple[SCMInfo, ...] = (
    SCMInfo(
        scm_id="github",
        name="GitHub",
        default_hosts=("github.com",),
        oauth_docs_url="https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/creating-an-oauth-app",
        oauth_authorize_url="{base}/login/oauth/authorize",
        oauth_callback_url="https://app.gitpod.io/auth/github/callback",
        pat_create_url="https://{host}/settings/tokens/new?description=Gitpod&scopes="
        + ",".join(_GITHUB_SCOPES),
        pat_docs_url="https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens",
        pat_description="A classic personal access token with the scopes "
        + ", ".join(_GITHUB_SCOPES)
        + ".",
        pat_example="ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        pat_required_scopes=_GITHUB_SCOPES,
    ),
    SCMInfo(
        scm_id="gitlab",
        name="GitLab",
        default_hosts=("gitlab.com",),
        oauth_docs_url="https://docs.gitlab.com/integration/oauth_provider/",
        oauth_authorize_url="{base}/oauth/authorize",
        oauth_callback_url="https://app.gitpod.io/auth/gitlab/callback",
        pat_create_url="https://{host}/-/user_settings/personal_access_tokens?name=Gitpod&scopes="
        + ",".join(_GITLAB_SCOPES),
        pat_docs_url="https://docs.gitlab.com/user/profile/personal_access_tokens/",
        pat_description="A personal access token with the scopes "
        + ", ".join(_GITLAB_SCOPES)
        + ".",
        pat_example="glpat-xxxxxxxxxxxxxxxxxxxx",
        pat_required_scopes=_GITLAB_SCOPES,
    ),
    SCMInfo(
        scm_id="bitbucket",
        name="Bitbucket",
        default_hosts=("bitbucket.org",),
        oauth_docs_url="https://support.atlassian.com/bitbucket-cloud/docs/use-oauth-on-bitbucket-cloud/",
        oauth_authorize_url="{base}/site/oauth2/authorize",
        oauth_callback_url="https://app.gitpod.io/auth/bitbucket/callback",
        pat_create_url="https://id.atlassian.com/manage-profile/security/api-tokens",
        pat_docs_url="https://support.atlassian.com/bitbucket-cloud/docs/api-tokens/",
        pat_description="An Atlassian API token with the Bitbucket scopes "
        + ", ".join(_BITBUCKET_SCOPES)
        + ".",
        pat_example="ATATT3xFfGF0xxxxxxxxxxxxxxxxxxxxxxxx",
        pat_required_scopes=_BITBUCKET_SCOPES,
    ),
    SCMInfo(
        scm_id="azuredevops",
        name="Azure DevOps",
        default_hosts=("dev.azure.com",),
        oauth_docs_url="https://learn.microsoft.com/en-us/azure/devops/integrate/get-started/authentication/entra-oauth",
        oauth_authorize_url="https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
        oauth_callback_url="https://app.gitpod.io/auth/azuredevops/callback",
        pat_create_url="https://{host}/_usersSettings/tokens",
        pat_docs_url="https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate",
        pat_description="A personal access token with the scopes Code (Read & write) and "
        "User Profile (Read).",
        pat_example="x" * 52,
        pat_required_scopes=_AZURE_SCOPES,
    ),
)

_BY_ID = {info.scm_id: info for info in CATALOG}
_DEFAULT_HOSTS = {host: info.scm_id for info in CATALOG for host in info.default_hosts}
_VISUALSTUDIO_SUFFIX = ".visualstudio.com"
_DEFAULT_PORTS = ("443", "80")


def scm_info(scm_id: str) -> SCMInfo | None:
    """Returns the catalog entry of an SCM.

    Args:
        scm_id: The SCM's identifier, e.g. "github".

    Returns:
        The entry, or None if the catalog has no such SCM.
    """
    return _BY_ID.get(scm_id)


def normalize_host(host: str) -> str:
    """Normalises a host name for comparison and display.

    Lower-cases it and drops surrounding whitespace, a leading ``http://``/``https://``, user
    info, anything from the first ``/``, ``?`` or ``#`` on, a trailing dot and a default port
    (``:443`` or ``:80``, whatever the scheme). Never fails: what cannot be cleaned is returned
    as is (lower case). Idempotent: normalising a normalised host changes nothing.

    Args:
        host: A host as a user typed it, e.g. ``"https://GitHub.com/"``.

    Returns:
        The normalised host, e.g. ``"github.com"``; empty if nothing is left.
    """
    text = host
    for _ in range(8):  # each round only removes characters; garbage may need a few
        cleaned = _normalize_once(text)
        if cleaned == text:
            break
        text = cleaned
    return text


def _normalize_once(text: str) -> str:
    text = text.strip().lower()
    for scheme in ("https://", "http://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
            break
    for stop in "/?#":
        text = text.split(stop, 1)[0]
    text = text.rsplit("@", 1)[-1]
    name, sep, port = text.rpartition(":")
    if sep and port.isdigit() and not name.endswith(":"):  # not a bare IPv6 literal
        text = name if port in _DEFAULT_PORTS else f"{name.rstrip('.')}:{port}"
    return text.rstrip(".").strip()


def azure_visualstudio_org(host: str) -> str | None:
    """Returns the organisation of a legacy ``<org>.visualstudio.com`` host.

    Args:
        host: A normalised host.

    Returns:
        The organisation, or None if the host is not of that form.
    """
    if host.endswith(_VISUALSTUDIO_SUFFIX):
        org = host[: -len(_VISUALSTUDIO_SUFFIX)]
        if org and "." not in org and ":" not in org:
            return org
    return None


def default_scm_for_host(host: str) -> str | None:
    """Returns the SCM that serves a host by default, without any integration.

    Args:
        host: A host (normalised here).

    Returns:
        The scm_id, or None if no SCM serves the host by default.
    """
    normal = normalize_host(host)
    if normal in _DEFAULT_HOSTS:
        return _DEFAULT_HOSTS[normal]
    if azure_visualstudio_org(normal) is not None:
        return "azuredevops"
    return None


def find_integration(
    host: str, integrations: Sequence[SCMIntegrationView]
) -> SCMIntegrationView | None:
    """Returns the integration configured for a host.

    Args:
        host: A host (normalised here).
        integrations: The runner's SCM integrations.

    Returns:
        The first integration whose normalised host equals the host, or None.
    """
    normal = normalize_host(host)
    for integration in integrations:
        if normalize_host(integration.host) == normal:
            return integration
    return None


def scm_for_host(host: str, integrations: Sequence[SCMIntegrationView]) -> str | None:
    """Returns the SCM serving a host: the runner's integration first, else the default hosts.

    Args:
        host: A host (normalised here).
        integrations: The runner's SCM integrations.

    Returns:
        The scm_id, or None if neither an integration nor a default host names the host.
    """
    integration = find_integration(host, integrations)
    if integration is not None:
        return integration.scm_id
    return default_scm_for_host(host)
