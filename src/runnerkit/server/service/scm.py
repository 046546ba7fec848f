"""SCM-facing operations of RunnerService.

ParseContextURL and CheckAuthenticationForHost are answered offline from the domain modules.
Their ``runner_id`` is optional, as in the reference's own examples: without it only the
public SCM hosts are known, and ``authenticated`` means the caller holds an unexpired host
token for the host on any runner.

CheckRepositoryAccess, ListSCMOrganizations and SearchRepositories need an SCM adapter and a
host authentication token of the caller. Without a token they answer ``failed_precondition``
with the wording real clients key on: ``missing authentication token for <host>``. With one,
they need the SCM adapters, which are not wired in yet: ``unimplemented``. SearchRepositories
without ``scm_host`` searches every host the caller holds a token for on the runner; with no
such host the result is empty.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from runnerkit.server.domain.access import Access
from runnerkit.server.domain.context_urls import ContextURLError, parse_context_url
from runnerkit.server.domain.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    UnimplementedError,
)
from runnerkit.server.domain.host_auth import check_authentication_for_host
from runnerkit.server.domain.runners import MAX_NAME, MAX_URL, check_enum, check_text
from runnerkit.server.domain.scm_catalog import SCMIntegrationView, normalize_host
from runnerkit.server.pagination import page_size
from runnerkit.server.service.runners import load_runner
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import RunnerRecord, SubjectRecord

_HOST = re.compile(
    r"(?=.{1,253}(:|$))[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(:[0-9]{1,5})?"
)


def _missing_token(host: str) -> FailedPreconditionError:
    return FailedPreconditionError(f"missing authentication token for {host}")


def _optional_runner(svc: Services, subject: SubjectRecord, runner_id: str) -> RunnerRecord | None:
    """The runner named by an optional ``runner_id`` (USER access needed), or None."""
    return load_runner(svc, subject, runner_id, Access.USER) if runner_id else None


def _needs_adapter(
    svc: Services, subject: SubjectRecord, runner: RunnerRecord, host: str, rpc: str
) -> UnimplementedError | FailedPreconditionError:
    """The answer for a host the SCM adapters would have to call (see the module docstring)."""
    if not svc.store.has_unexpired_host_token(runner.id, host, subject.id, svc.clock()):
        return _missing_token(host)
    return UnimplementedError(f"{rpc} for {host} needs the SCM adapters (not implemented yet)")


def check_host(value: str, field: str) -> str:
    """A required host name (optionally with a port), normalised.

    Args:
        value: The host as given, e.g. ``github.com`` or ``https://git.example.com``.
        field: The request field, for errors.

    Returns:
        The normalised host.

    Raises:
        InvalidArgumentError: Empty, too long, or not a host name.
    """
    check_text(value, field, MAX_NAME, required=True)
    host = normalize_host(value)
    if not _HOST.fullmatch(host):
        raise InvalidArgumentError(field, "must be a host name")
    return host


def parse_context_url_op(
    svc: Services, subject: SubjectRecord, request: runner_pb2.ParseContextURLRequest
) -> runner_pb2.ParseContextURLResponse:
    """ParseContextURL: offline parsing for the known SCMs (with a runner: USER on it)."""
    runner = _optional_runner(svc, subject, request.runner_id)
    check_text(request.context_url, "context_url", MAX_URL, required=True)
    integrations = svc.store.scm_integrations_of_runner(runner.id) if runner else []
    hosts = {i.host: i.scm_id for i in integrations}
    try:
        return parse_context_url(request.context_url, integration_hosts=hosts)
    except ContextURLError as exc:
        raise InvalidArgumentError("context_url", str(exc)) from exc


def check_authentication_for_host_op(
    svc: Services, subject: SubjectRecord, request: runner_pb2.CheckAuthenticationForHostRequest
) -> runner_pb2.CheckAuthenticationForHostResponse:
    """CheckAuthenticationForHost: always answers; unknown hosts get no support blocks."""
    runner = _optional_runner(svc, subject, request.runner_id)
    check_text(request.host, "host", MAX_URL, required=True)
    integrations = [
        SCMIntegrationView(i.scm_id, i.host, i.oauth_client_id, i.pat, i.issuer_url)
        for i in (svc.store.scm_integrations_of_runner(runner.id) if runner else [])
    ]
    authenticated = svc.store.has_unexpired_host_token(
        runner.id if runner else None, normalize_host(request.host), subject.id, svc.clock()
    )
    return check_authentication_for_host(
        request.host, integrations=integrations, authenticated=authenticated
    )


def check_repository_access(
    svc: Services, subject: SubjectRecord, request: runner_pb2.CheckRepositoryAccessRequest
) -> runner_pb2.CheckRepositoryAccessResponse:
    """CheckRepositoryAccess: invalid URL, else no host token (see the module docstring)."""
    runner = load_runner(svc, subject, request.runner_id, Access.USER)
    url = check_text(request.repository_url, "repository_url", MAX_URL, required=True)
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise InvalidArgumentError("repository_url", "not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError("repository_url", "must be an http(s) URL")
    if len([s for s in parts.path.split("/") if s]) < 2:
        raise InvalidArgumentError("repository_url", "does not name a repository")
    host = normalize_host(f"{parts.scheme}://{parts.netloc}")
    raise _needs_adapter(svc, subject, runner, host, "CheckRepositoryAccess")


def list_scm_organizations(
    svc: Services, subject: SubjectRecord, request: runner_pb2.ListSCMOrganizationsRequest
) -> runner_pb2.ListSCMOrganizationsResponse:
    """ListSCMOrganizations: checks the request, then needs a host token."""
    runner = load_runner(svc, subject, request.runner_id, Access.USER)
    host = check_host(request.scm_host, "scm_host")
    check_text(request.query, "query", MAX_NAME)
    page_size(request.pagination)
    raise _needs_adapter(svc, subject, runner, host, "ListSCMOrganizations")


def search_repositories(
    svc: Services, subject: SubjectRecord, request: runner_pb2.SearchRepositoriesRequest
) -> runner_pb2.SearchRepositoriesResponse:
    """SearchRepositories: one host, or every host the caller holds a token for."""
    runner = load_runner(svc, subject, request.runner_id, Access.USER)
    check_text(request.search_string, "search_string", MAX_URL)
    check_enum(runner_pb2.SearchMode, request.search_mode, "search_mode", allow_unspecified=True)
    if request.limit < 0:
        raise InvalidArgumentError("limit", "must not be negative")
    page_size(request.pagination)
    if request.scm_host:
        host = check_host(request.scm_host, "scm_host")
        raise _needs_adapter(svc, subject, runner, host, "SearchRepositories")
    hosts = svc.store.host_token_hosts(runner.id, subject.id, svc.clock())
    if not hosts:
        return runner_pb2.SearchRepositoriesResponse()
    raise _needs_adapter(svc, subject, runner, hosts[0], "SearchRepositories")
