"""``client.runners.policies``: group roles on a runner (RunnerService)."""

from __future__ import annotations

from runnerkit.client._rpc import ListRpc, ModeT, Resource, Rpc
from runnerkit_proto.gitpod.v1 import runner_pb2

__all__ = ["PoliciesResource"]


class PoliciesResource(Resource[ModeT]):
    """Create, list, update and delete runner policies."""

    facade_path = "runners.policies"

    create = Rpc(runner_pb2.CreateRunnerPolicyRequest, runner_pb2.CreateRunnerPolicyResponse)
    list = ListRpc(
        runner_pb2.ListRunnerPoliciesRequest,
        runner_pb2.ListRunnerPoliciesResponse,
        runner_pb2.RunnerPolicy,
    )
    update = Rpc(runner_pb2.UpdateRunnerPolicyRequest, runner_pb2.UpdateRunnerPolicyResponse)
    delete = Rpc(runner_pb2.DeleteRunnerPolicyRequest, runner_pb2.DeleteRunnerPolicyResponse)
