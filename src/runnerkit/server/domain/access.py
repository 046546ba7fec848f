"""Who may do what to a runner: org admins, the runner's creator, and runner policies.

- An org admin holds ADMIN on every runner.
- The subject that created a runner holds ADMIN on it.
- A runner policy gives a group ADMIN or USER on one runner; a subject holds the highest role
  of its groups' policies.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from runnerkit.server.domain.errors import PermissionDeniedError
from runnerkit_proto.gitpod.v1 import identity_pb2, runner_pb2

if TYPE_CHECKING:
    from collections.abc import Iterable

    from runnerkit.server.storage.base import SubjectRecord


class Access(enum.IntEnum):
    """A subject's effective access to one runner, ordered: more is more."""

    NONE = 0
    USER = 1
    ADMIN = 2


_POLICY_ACCESS: dict[int, Access] = {
    runner_pb2.RUNNER_ROLE_ADMIN: Access.ADMIN,
    runner_pb2.RUNNER_ROLE_USER: Access.USER,
}


def runner_access(subject: SubjectRecord, creator_id: str | None, roles: Iterable[int]) -> Access:
    """The access ``subject`` has to a runner.

    Args:
        subject: The caller.
        creator_id: Id of the runner's creator, or None when the runner does not exist.
        roles: ``RunnerRole`` values that policies of the runner give the caller's groups.

    Returns:
        The highest access that any rule grants.
    """
    if subject.org_admin or (creator_id is not None and creator_id == subject.id):
        return Access.ADMIN
    return max((_POLICY_ACCESS.get(role, Access.NONE) for role in roles), default=Access.NONE)


def require(have: Access, need: Access, runner_id: str) -> None:
    """Raise ``PermissionDeniedError`` naming the runner unless ``have`` reaches ``need``.

    Args:
        have: The caller's access to the runner.
        need: The access the operation needs.
        runner_id: The runner, for the message.

    Raises:
        PermissionDeniedError: ``have`` is less than ``need``.
    """
    if have < need:
        raise PermissionDeniedError(f"permission denied on runner {runner_id}")


def may_create_runners(subject: SubjectRecord) -> bool:
    """Whether a subject may create runners: org admins and runner creators, never runners."""
    if subject.principal == identity_pb2.PRINCIPAL_RUNNER:
        return False
    return subject.org_admin or subject.runner_creator
