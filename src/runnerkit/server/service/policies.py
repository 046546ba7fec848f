"""Runner policy operations: list, create, update, delete (runner ADMIN only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runnerkit.server.domain.access import Access
from runnerkit.server.domain.errors import InvalidArgumentError, NotFoundError
from runnerkit.server.domain.ids import parse_uuid
from runnerkit.server.domain.runners import check_enum
from runnerkit.server.pagination import fingerprint, page_size
from runnerkit.server.service.runners import runner_in
from runnerkit.server.storage.base import PolicyRecord
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import SubjectRecord
    from runnerkit.server.storage.transaction import Transaction


def _message(policy: PolicyRecord) -> runner_pb2.RunnerPolicy:
    return runner_pb2.RunnerPolicy(group_id=policy.group_id, role=policy.role)  # type: ignore[arg-type]


def _target(
    tx: Transaction, subject: SubjectRecord, runner_id: str, group_id: str
) -> tuple[str, str]:
    record = runner_in(tx, subject, runner_id, Access.ADMIN)
    return record.id, parse_uuid(group_id, "group_id")


def _role(role: runner_pb2.RunnerRole.ValueType) -> runner_pb2.RunnerRole.ValueType:
    return check_enum(runner_pb2.RunnerRole, role, "role", allow_unspecified=False)


def list_runner_policies(
    svc: Services, subject: SubjectRecord, request: runner_pb2.ListRunnerPoliciesRequest
) -> runner_pb2.ListRunnerPoliciesResponse:
    """ListRunnerPolicies: ordered by group id, keyset-paged."""
    size = page_size(request.pagination)
    with svc.store.read() as tx:
        record = runner_in(tx, subject, request.runner_id, Access.ADMIN)
        fp = fingerprint(request, subject.id)
        position = svc.page_tokens.decode(request.pagination.token, "ListRunnerPolicies", fp)
        after: str | None = None
        if position is not None:
            if len(position) != 1 or not isinstance(position[0], str):
                raise InvalidArgumentError("pagination.token", "invalid page token")
            after = position[0]
        rows = tx.list_policies(record.id, after, size + 1)
    response = runner_pb2.ListRunnerPoliciesResponse(policies=[_message(p) for p in rows[:size]])
    if len(rows) > size:
        response.pagination.next_token = svc.page_tokens.encode(
            "ListRunnerPolicies", fp, [rows[size - 1].group_id]
        )
    return response


def create_runner_policy(
    svc: Services, subject: SubjectRecord, request: runner_pb2.CreateRunnerPolicyRequest
) -> runner_pb2.CreateRunnerPolicyResponse:
    """CreateRunnerPolicy: ALREADY_EXISTS when the group has a policy on the runner."""
    with svc.store.write() as tx:
        runner_id, group_id = _target(tx, subject, request.runner_id, request.group_id)
        policy = PolicyRecord(runner_id, group_id, _role(request.role))
        tx.insert_policy(policy, svc.clock())
    return runner_pb2.CreateRunnerPolicyResponse(policy=_message(policy))


def update_runner_policy(
    svc: Services, subject: SubjectRecord, request: runner_pb2.UpdateRunnerPolicyRequest
) -> runner_pb2.UpdateRunnerPolicyResponse:
    """UpdateRunnerPolicy: NOT_FOUND when the group has no policy on the runner."""
    with svc.store.write() as tx:
        runner_id, group_id = _target(tx, subject, request.runner_id, request.group_id)
        policy = PolicyRecord(runner_id, group_id, _role(request.role))
        if not tx.update_policy(policy, svc.clock()):
            raise NotFoundError(f"no policy for group {group_id} on runner {runner_id}")
    return runner_pb2.UpdateRunnerPolicyResponse(policy=_message(policy))


def delete_runner_policy(
    svc: Services, subject: SubjectRecord, request: runner_pb2.DeleteRunnerPolicyRequest
) -> runner_pb2.DeleteRunnerPolicyResponse:
    """DeleteRunnerPolicy: NOT_FOUND when the group has no policy on the runner."""
    with svc.store.write() as tx:
        runner_id, group_id = _target(tx, subject, request.runner_id, request.group_id)
        if not tx.delete_policy(runner_id, group_id):
            raise NotFoundError(f"no policy for group {group_id} on runner {runner_id}")
    return runner_pb2.DeleteRunnerPolicyResponse()
