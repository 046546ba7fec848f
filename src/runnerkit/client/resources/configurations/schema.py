"""``client.runners.configurations.schema``."""

from __future__ import annotations

from runnerkit.client._rpc import ModeT, Resource, Rpc
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as pb

__all__ = ["SchemaResource"]


class SchemaResource(Resource[ModeT]):
    """The configuration schema of a runner."""

    facade_path = "runners.configurations.schema"

    retrieve = Rpc(pb.GetRunnerConfigurationSchemaRequest, pb.GetRunnerConfigurationSchemaResponse)
