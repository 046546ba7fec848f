"""``RunnerServiceHandler``: the generated ``RunnerService`` protocol on ``server.service``.

Each method takes the caller from the auth interceptor and runs the synchronous operation in a
worker thread (the store is synchronous SQLAlchemy; see docs/server.md). Domain errors become
``ConnectError`` values in ``server.errors.ErrorInterceptor``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

from runnerkit.server.auth import current_subject
from runnerkit.server.service import policies, runners, scm
from runnerkit_proto.gitpod.v1 import runner_connect, runner_pb2

if TYPE_CHECKING:
    from collections.abc import Callable

    from connectrpc.request import RequestContext

    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import SubjectRecord

_REQ = TypeVar("_REQ")
_RES = TypeVar("_RES")


class RunnerServiceHandler(runner_connect.RunnerService):
    """Serves all 16 RunnerService RPCs."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def _run(
        self, operation: Callable[[Services, SubjectRecord, _REQ], _RES], request: _REQ
    ) -> _RES:
        return await asyncio.to_thread(operation, self._services, current_subject(), request)

    async def create_runner(
        self,
        request: runner_pb2.CreateRunnerRequest,
        ctx: RequestContext[runner_pb2.CreateRunnerRequest, runner_pb2.CreateRunnerResponse],
        /,
    ) -> runner_pb2.CreateRunnerResponse:
        """CreateRunner."""
        return await self._run(runners.create_runner, request)

    async def get_runner(
        self,
        request: runner_pb2.GetRunnerRequest,
        ctx: RequestContext[runner_pb2.GetRunnerRequest, runner_pb2.GetRunnerResponse],
        /,
    ) -> runner_pb2.GetRunnerResponse:
        """GetRunner."""
        return await self._run(runners.get_runner, request)

    async def list_runners(
        self,
        request: runner_pb2.ListRunnersRequest,
        ctx: RequestContext[runner_pb2.ListRunnersRequest, runner_pb2.ListRunnersResponse],
        /,
    ) -> runner_pb2.ListRunnersResponse:
        """ListRunners."""
        return await self._run(runners.list_runners, request)

    async def update_runner(
        self,
        request: runner_pb2.UpdateRunnerRequest,
        ctx: RequestContext[runner_pb2.UpdateRunnerRequest, runner_pb2.UpdateRunnerResponse],
        /,
    ) -> runner_pb2.UpdateRunnerResponse:
        """UpdateRunner."""
        return await self._run(runners.update_runner, request)

    async def delete_runner(
        self,
        request: runner_pb2.DeleteRunnerRequest,
        ctx: RequestContext[runner_pb2.DeleteRunnerRequest, runner_pb2.DeleteRunnerResponse],
        /,
    ) -> runner_pb2.DeleteRunnerResponse:
        """DeleteRunner."""
        return await self._run(runners.delete_runner, request)

    async def create_runner_token(
        self,
        request: runner_pb2.CreateRunnerTokenRequest,
        ctx: RequestContext[
            runner_pb2.CreateRunnerTokenRequest, runner_pb2.CreateRunnerTokenResponse
        ],
        /,
    ) -> runner_pb2.CreateRunnerTokenResponse:
        """CreateRunnerToken."""
        return await self._run(runners.create_runner_token, request)

    async def create_runner_logs_token(
        self,
        request: runner_pb2.CreateRunnerLogsTokenRequest,
        ctx: RequestContext[
            runner_pb2.CreateRunnerLogsTokenRequest, runner_pb2.CreateRunnerLogsTokenResponse
        ],
        /,
    ) -> runner_pb2.CreateRunnerLogsTokenResponse:
        """CreateRunnerLogsToken."""
        return await self._run(runners.create_runner_logs_token, request)

    async def parse_context_url(
        self,
        request: runner_pb2.ParseContextURLRequest,
        ctx: RequestContext[runner_pb2.ParseContextURLRequest, runner_pb2.ParseContextURLResponse],
        /,
    ) -> runner_pb2.ParseContextURLResponse:
        """ParseContextURL."""
        return await self._run(scm.parse_context_url_op, request)

    async def search_repositories(
        self,
        request: runner_pb2.SearchRepositoriesRequest,
        ctx: RequestContext[
            runner_pb2.SearchRepositoriesRequest, runner_pb2.SearchRepositoriesResponse
        ],
        /,
    ) -> runner_pb2.SearchRepositoriesResponse:
        """SearchRepositories."""
        return await self._run(scm.search_repositories, request)

    async def list_scm_organizations(
        self,
        request: runner_pb2.ListSCMOrganizationsRequest,
        ctx: RequestContext[
            runner_pb2.ListSCMOrganizationsRequest, runner_pb2.ListSCMOrganizationsResponse
        ],
        /,
    ) -> runner_pb2.ListSCMOrganizationsResponse:
        """ListSCMOrganizations."""
        return await self._run(scm.list_scm_organizations, request)

    async def check_authentication_for_host(
        self,
        request: runner_pb2.CheckAuthenticationForHostRequest,
        ctx: RequestContext[
            runner_pb2.CheckAuthenticationForHostRequest,
            runner_pb2.CheckAuthenticationForHostResponse,
        ],
        /,
    ) -> runner_pb2.CheckAuthenticationForHostResponse:
        """CheckAuthenticationForHost."""
        return await self._run(scm.check_authentication_for_host_op, request)

    async def check_repository_access(
        self,
        request: runner_pb2.CheckRepositoryAccessRequest,
        ctx: RequestContext[
            runner_pb2.CheckRepositoryAccessRequest, runner_pb2.CheckRepositoryAccessResponse
        ],
        /,
    ) -> runner_pb2.CheckRepositoryAccessResponse:
        """CheckRepositoryAccess."""
        return await self._run(scm.check_repository_access, request)

    async def list_runner_policies(
        self,
        request: runner_pb2.ListRunnerPoliciesRequest,
        ctx: RequestContext[
            runner_pb2.ListRunnerPoliciesRequest, runner_pb2.ListRunnerPoliciesResponse
        ],
        /,
    ) -> runner_pb2.ListRunnerPoliciesResponse:
        """ListRunnerPolicies."""
        return await self._run(policies.list_runner_policies, request)

    async def create_runner_policy(
        self,
        request: runner_pb2.CreateRunnerPolicyRequest,
        ctx: RequestContext[
            runner_pb2.CreateRunnerPolicyRequest, runner_pb2.CreateRunnerPolicyResponse
        ],
        /,
    ) -> runner_pb2.CreateRunnerPolicyResponse:
        """CreateRunnerPolicy."""
        return await self._run(policies.create_runner_policy, request)

    async def update_runner_policy(
        self,
        request: runner_pb2.UpdateRunnerPolicyRequest,
        ctx: RequestContext[
            runner_pb2.UpdateRunnerPolicyRequest, runner_pb2.UpdateRunnerPolicyResponse
        ],
        /,
    ) -> runner_pb2.UpdateRunnerPolicyResponse:
        """UpdateRunnerPolicy."""
        return await self._run(policies.update_runner_policy, request)

    async def delete_runner_policy(
        self,
        request: runner_pb2.DeleteRunnerPolicyRequest,
        ctx: RequestContext[
            runner_pb2.DeleteRunnerPolicyRequest, runner_pb2.DeleteRunnerPolicyResponse
        ],
        /,
    ) -> runner_pb2.DeleteRunnerPolicyResponse:
        """DeleteRunnerPolicy."""
        return await self._run(policies.delete_runner_policy, request)
