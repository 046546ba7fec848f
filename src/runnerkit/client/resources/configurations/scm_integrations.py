"""``client.runners.configurations.scm_integrations``."""

from __future__ import annotations

from runnerkit.client._rpc import ListRpc, ModeT, Resource, Rpc
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as pb

__all__ = ["ScmIntegrationsResource"]


class ScmIntegrationsResource(Resource[ModeT]):
    """Create, retrieve, list, update and delete SCM integrations."""

    facade_path = "runners.configurations.scm_integrations"

    create = Rpc(pb.CreateSCMIntegrationRequest, pb.CreateSCMIntegrationResponse)
    retrieve = Rpc(pb.GetSCMIntegrationRequest, pb.GetSCMIntegrationResponse)
    list = ListRpc(pb.ListSCMIntegrationsRequest, pb.ListSCMIntegrationsResponse, pb.SCMIntegration)
    update = Rpc(pb.UpdateSCMIntegrationRequest, pb.UpdateSCMIntegrationResponse)
    delete = Rpc(pb.DeleteSCMIntegrationRequest, pb.DeleteSCMIntegrationResponse)
