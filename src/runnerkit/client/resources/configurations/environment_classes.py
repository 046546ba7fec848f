"""``client.runners.configurations.environment_classes`` (no delete: classes go with their runner)."""

from __future__ import annotations

from runnerkit.client._rpc import ListRpc, ModeT, Resource, Rpc
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as pb

__all__ = ["EnvironmentClassesResource"]


class EnvironmentClassesResource(Resource[ModeT]):
    """Create, retrieve, list and update environment classes."""

    facade_path = "runners.configurations.environment_classes"

    create = Rpc(pb.CreateEnvironmentClassRequest, pb.CreateEnvironmentClassResponse)
    retrieve = Rpc(pb.GetEnvironmentClassRequest, pb.GetEnvironmentClassResponse)
    list = ListRpc(
        pb.ListEnvironmentClassesRequest, pb.ListEnvironmentClassesResponse, pb.EnvironmentClass
    )
    update = Rpc(pb.UpdateEnvironmentClassRequest, pb.UpdateEnvironmentClassResponse)
