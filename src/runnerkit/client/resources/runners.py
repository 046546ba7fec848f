"""``client.runners``: RunnerService, with ``policies`` and ``configurations`` below it."""

from __future__ import annotations

from functools import cached_property

from runnerkit.client._rpc import ListRpc, ModeT, Resource, Rpc
from runnerkit.client.resources.configurations import ConfigurationsResource
from runnerkit.client.resources.policies import PoliciesResource
from runnerkit_proto.gitpod.v1 import runner_pb2 as pb

__all__ = ["RunnersResource"]


class RunnersResource(Resource[ModeT]):
    """Runners, their tokens, and SCM queries made through a runner."""

    facade_path = "runners"

    create = Rpc(pb.CreateRunnerRequest, pb.CreateRunnerResponse)
    retrieve = Rpc(pb.GetRunnerRequest, pb.GetRunnerResponse)
    list = ListRpc(pb.ListRunnersRequest, pb.ListRunnersResponse, pb.Runner)
    update = Rpc(pb.UpdateRunnerRequest, pb.UpdateRunnerResponse)
    delete = Rpc(pb.DeleteRunnerRequest, pb.DeleteRunnerResponse)
    create_runner_token = Rpc(pb.CreateRunnerTokenRequest, pb.CreateRunnerTokenResponse)
    create_logs_token = Rpc(pb.CreateRunnerLogsTokenRequest, pb.CreateRunnerLogsTokenResponse)
    parse_context_url = Rpc(pb.ParseContextURLRequest, pb.ParseContextURLResponse)
    search_repositories = Rpc(pb.SearchRepositoriesRequest, pb.SearchRepositoriesResponse)
    list_scm_organizations = Rpc(pb.ListSCMOrganizationsRequest, pb.ListSCMOrganizationsResponse)
    check_authentication_for_host = Rpc(
        pb.CheckAuthenticationForHostRequest, pb.CheckAuthenticationForHostResponse
    )
    check_repository_access = Rpc(pb.CheckRepositoryAccessRequest, pb.CheckRepositoryAccessResponse)

    @cached_property
    def policies(self) -> PoliciesResource[ModeT]:
        """``client.runners.policies``."""
        return PoliciesResource(self._invoker)

    @cached_property
    def configurations(self) -> ConfigurationsResource[ModeT]:
        """``client.runners.configurations``."""
        return ConfigurationsResource(self._invoker)
