"""``client.runners.configurations.host_authentication_tokens``."""

from __future__ import annotations

from runnerkit.client._rpc import ListRpc, ModeT, Resource, Rpc
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as pb

__all__ = ["HostAuthenticationTokensResource"]


class HostAuthenticationTokensResource(Resource[ModeT]):
    """Create, retrieve, list, update and delete host authentication tokens."""

    facade_path = "runners.configurations.host_authentication_tokens"

    create = Rpc(pb.CreateHostAuthenticationTokenRequest, pb.CreateHostAuthenticationTokenResponse)
    retrieve = Rpc(pb.GetHostAuthenticationTokenRequest, pb.GetHostAuthenticationTokenResponse)
    list = ListRpc(
        pb.ListHostAuthenticationTokensRequest,
        pb.ListHostAuthenticationTokensResponse,
        pb.HostAuthenticationToken,
    )
    update = Rpc(pb.UpdateHostAuthenticationTokenRequest, pb.UpdateHostAuthenticationTokenResponse)
    delete = Rpc(pb.DeleteHostAuthenticationTokenRequest, pb.DeleteHostAuthenticationTokenResponse)
