"""SCM-facing operations of RunnerService.

ParseContextURL and CheckAuthenticationForHost are answered offline from the domain modules.
Their ``runner_id`` is optional, as in the reference's own examples: without it only the
public SCM hosts are known, and ``authenticated`` means the caller holds an unexpired host
token for the host on any runner.

CheckRepositoryAccess, ListSCMOrganizations and SearchRepositories call the SCM's REST API
(``server/scm``) with the caller's host authentication token for the runner and host
(``service/scm_calls.py``: look-up, unsealing, OAuth refresh). Without a usable token they
answer ``failed_precondition`` with the wording real clients key on: ``missing authentication
token for <host>``. SCMs without an adapter (Bitbucket, Azure DevOps) are ``unimplemented``;
upstream failures map as in ``scm/base.py`` (``unavailable``, ``resource_exhausted``, ...).

- CheckRepositoryAccess: the URL (clone or web) is parsed like a context URL (public hosts
  and the runner's integration hosts) for host, owner and repository.
- ListSCMOrganizations: pages are the SCM's pages; the page number travels in the server's
  opaque, signed page token (bound to the RPC, the request and the caller).
- SearchRepositories: the ``NEXT_PAGE/TOTAL_PAGES/TOTAL_COUNT`` token of ``scm/search_tokens``.
  Without ``scm_host`` it searches the first (in sorted order) of the hosts the caller holds an
  unexpired token for on the runner; with no such host the result is empty.
- ParseContextURL: after the offline parse, when a runner is given, the SCM is GitHub or
  GitLab and the caller holds a usable token for the host, the answer is checked and enriched:
  pull/merge request details; ``not_found`` for a missing repository, branch or request.
  Without a token the offline answer stands.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from runnerkit.server.domain.access import Access
from runnerkit.server.domain.context_urls import ContextURLError, parse_context_url
from runnerkit.server.domain.errors import InvalidArgumentError, NotFoundError
from runnerkit.server.domain.host_auth import check_authentication_for_host
from runnerkit.server.domain.runners import MAX_NAME, MAX_URL, check_enum, check_text
from runnerkit.server.domain.scm_catalog import SCMIntegrationView, normalize_host
from runnerkit.server.pagination import fingerprint, page_size
from runnerkit.server.scm import SUPPORTED_SCMS
from runnerkit.server.scm.search_tokens import (
    decode_page,
    encode_token,
    last_page,
    search_page_size,
)
from runnerkit.server.service.runners import runner_in
from runnerkit.server.service.scm_calls import (
    HostTokenLookup,
    look_up_host_token,
    open_host_call,
    require_host_call,
)
from runnerkit_proto.gitpod.v1 import agent_pb2, runner_pb2

if TYPE_CHECKING:
    from runnerkit.server.scm import PullRequestInfo
    from runnerkit.server.scm.base import SearchMode
    from runnerkit.server.service import Services
    from runnerkit.server.service.scm_calls import HostCall
    from runnerkit.server.storage.base import RunnerRecord, SubjectRecord
    from runnerkit.server.storage.transaction import Transaction

_ORGS = "ListSCMOrganizations"
_STATES = {
    "open": agent_pb2.PullRequest.STATE_OPEN,
    "closed": agent_pb2.PullRequest.STATE_CLOSED,
    "merged": agent_pb2.PullRequest.STATE_MERGED,
}
_HOST = re.compile(
    r"(?=.{1,253}(:|$))[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(:[0-9]{1,5})?"
)


def _optional_runner(
    tx: Transaction, subject: SubjectRecord, runner_id: str
) -> RunnerRecord | None:
    """The runner named by an optional ``runner_id`` (USER access needed), or None."""
    return runner_in(tx, subject, runner_id, Access.USER) if runner_id else None


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
    lookup: HostTokenLookup | None = None
    with svc.store.read() as tx:
        runner = _optional_runner(tx, subject, request.runner_id)
        check_text(request.context_url, "context_url", MAX_URL, required=True)
        integrations = tx.scm_integrations_of_runner(runner.id) if runner else []
        hosts = {i.host: i.scm_id for i in integrations}
        try:
            parsed = parse_context_url(request.context_url, integration_hosts=hosts)
        except ContextURLError as exc:
            raise InvalidArgumentError("context_url", str(exc)) from exc
        if runner is not None and parsed.scm_id in SUPPORTED_SCMS:
            lookup = look_up_host_token(tx, subject, runner, parsed.git.host, integrations)
    if runner is not None and lookup is not None:
        call = open_host_call(svc, runner, lookup, scm_id=parsed.scm_id)
        if call is not None:
            _enrich(call, parsed)
    return parsed


def _enrich(call: HostCall, parsed: runner_pb2.ParseContextURLResponse) -> None:
    """Check the parsed context against the SCM and fill in pull/merge request details."""
    git = parsed.git
    owner, repo = git.owner, git.repo
    name = f"{owner}/{repo}"
    if parsed.pull_request.id:
        number = int(parsed.pull_request.id)
        info = call.run(lambda a, t: a.get_pull_request(t, owner, repo, number))
        _fill_pull_request(parsed, info)
    elif git.branch:
        branch = git.branch
        if not call.run(lambda a, t: a.branch_exists(t, owner, repo, branch)):
            raise NotFoundError(f"branch {branch} not found in repository {name} on {call.host}")
    elif not call.run(lambda a, t: a.repository_exists(t, owner, repo)):
        raise NotFoundError(f"repository {name} not found on {call.host}, or no access")


def _fill_pull_request(parsed: runner_pb2.ParseContextURLResponse, info: PullRequestInfo) -> None:
    pull = parsed.pull_request
    pull.title = info.title
    pull.author = info.author
    pull.from_branch = info.from_branch
    pull.to_branch = info.to_branch
    pull.state = _STATES[info.state]
    pull.draft = info.draft
    pull.head_sha = info.head_sha
    if info.url:
        pull.url = info.url
    parsed.pr.title = info.title
    parsed.pr.from_branch = info.from_branch
    parsed.pr.to_branch = info.to_branch


def check_authentication_for_host_op(
    svc: Services, subject: SubjectRecord, request: runner_pb2.CheckAuthenticationForHostRequest
) -> runner_pb2.CheckAuthenticationForHostResponse:
    """CheckAuthenticationForHost: always answers; unknown hosts get no support blocks."""
    with svc.store.read() as tx:
        runner = _optional_runner(tx, subject, request.runner_id)
        check_text(request.host, "host", MAX_URL, required=True)
        integrations = [
            SCMIntegrationView(i.scm_id, i.host, i.oauth_client_id, i.pat, i.issuer_url)
            for i in (tx.scm_integrations_of_runner(runner.id) if runner else [])
        ]
        authenticated = tx.has_unexpired_host_token(
            runner.id if runner else None, normalize_host(request.host), subject.id, svc.clock()
        )
    return check_authentication_for_host(
        request.host, integrations=integrations, authenticated=authenticated
    )


def check_repository_access(
    svc: Services, subject: SubjectRecord, request: runner_pb2.CheckRepositoryAccessRequest
) -> runner_pb2.CheckRepositoryAccessResponse:
    """CheckRepositoryAccess: whether the caller's host token can read the repository."""
    with svc.store.read() as tx:
        runner = runner_in(tx, subject, request.runner_id, Access.USER)
        url = check_text(request.repository_url, "repository_url", MAX_URL, required=True)
        integrations = tx.scm_integrations_of_runner(runner.id)
        hosts = {i.host: i.scm_id for i in integrations}
        try:
            parsed = parse_context_url(url, integration_hosts=hosts)
        except ContextURLError as exc:
            raise InvalidArgumentError("repository_url", str(exc)) from exc
        git = parsed.git
        lookup = look_up_host_token(tx, subject, runner, git.host, integrations)
    call = require_host_call(svc, runner, lookup)
    result = call.run(lambda a, t: a.check_repository_access(t, git.owner, git.repo))
    return runner_pb2.CheckRepositoryAccessResponse(
        has_access=result.has_access, error_message=result.error_message
    )


def list_scm_organizations(
    svc: Services, subject: SubjectRecord, request: runner_pb2.ListSCMOrganizationsRequest
) -> runner_pb2.ListSCMOrganizationsResponse:
    """ListSCMOrganizations: one page of the caller's organisations on the host."""
    with svc.store.read() as tx:
        runner = runner_in(tx, subject, request.runner_id, Access.USER)
        host = check_host(request.scm_host, "scm_host")
        query = check_text(request.query, "query", MAX_NAME)
        size = page_size(request.pagination)
        fp = fingerprint(request, subject.id)
        position = svc.page_tokens.decode(request.pagination.token, _ORGS, fp)
        page = 1
        if position is not None:
            if len(position) != 1 or not isinstance(position[0], int) or position[0] < 1:
                raise InvalidArgumentError("pagination.token", "invalid page token")
            page = position[0]
        lookup = look_up_host_token(tx, subject, runner, host)
    call = require_host_call(svc, runner, lookup)
    found = call.run(lambda a, t: a.list_organizations(t, query=query, page=page, per_page=size))
    response = runner_pb2.ListSCMOrganizationsResponse(
        organizations=[
            runner_pb2.ListSCMOrganizationsResponse.SCMOrganization(
                name=o.name, url=o.url, is_admin=o.is_admin
            )
            for o in found.orgs
        ]
    )
    if found.next_page is not None:
        response.pagination.next_token = svc.page_tokens.encode(_ORGS, fp, [found.next_page])
    return response


def search_repositories(
    svc: Services, subject: SubjectRecord, request: runner_pb2.SearchRepositoriesRequest
) -> runner_pb2.SearchRepositoriesResponse:
    """SearchRepositories: one page from ``scm_host``, or from the first host with a token."""
    with svc.store.read() as tx:
        runner = runner_in(tx, subject, request.runner_id, Access.USER)
        search = check_text(request.search_string, "search_string", MAX_URL)
        check_enum(
            runner_pb2.SearchMode, request.search_mode, "search_mode", allow_unspecified=True
        )
        size = search_page_size(request.pagination.page_size, request.limit)
        page = decode_page(request.pagination.token)
        mode: SearchMode = (
            "native" if request.search_mode == runner_pb2.SEARCH_MODE_NATIVE else "keyword"
        )
        if request.scm_host:
            host = check_host(request.scm_host, "scm_host")
        else:
            hosts = tx.host_token_hosts(runner.id, subject.id, svc.clock())
            if not hosts:
                return runner_pb2.SearchRepositoriesResponse()
            host = hosts[0]
        lookup = look_up_host_token(tx, subject, runner, host)
    call = require_host_call(svc, runner, lookup)
    found = call.run(
        lambda a, t: a.search_repositories(t, search=search, mode=mode, page=page, per_page=size)
    )
    response = runner_pb2.SearchRepositoriesResponse(
        repositories=[
            runner_pb2.SearchRepositoriesResponse.Repository(name=r.name, url=r.url)
            for r in found.repos
        ],
        last_page=last_page(found),
    )
    response.pagination.next_token = encode_token(
        found.next_page, found.total_pages, found.total_count
    )
    return response
