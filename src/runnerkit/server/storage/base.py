"""The store interface of the reference server: the ``Store`` Protocol.

One interface (``store.SQLStore`` serves SQLite and PostgreSQL). ``read()`` and ``write()``
open a unit of work, a ``Transaction`` with every operation, that commits entirely or changes
nothing; each method below is also one unit of work on its own. The records and queries live
in ``records.py`` (re-exported here). Times are integers, microseconds since the Unix epoch in
UTC, so that both backends store and compare them exactly.

Backends raise ``AlreadyExistsError`` for a unique key that is taken and let other
``DomainError`` exceptions raised by callbacks (``update_runner``) pass through after rolling back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from runnerkit.server.domain.errors import AlreadyExistsError, NotFoundError
from runnerkit.server.storage.config_records import ConfigStore
from runnerkit.server.storage.records import (
    PolicyRecord,
    RunnerQuery,
    RunnerRecord,
    RunnerTokenRecord,
    SubjectRecord,
)

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Callable, Sequence

    from runnerkit.server.storage.transaction import Transaction


class Store(ConfigStore, Protocol):
    """Persistence of subjects, tokens, runners and policies."""

    def close(self) -> None:
        """Release connections."""
        ...

    def read(self) -> contextlib.AbstractContextManager[Transaction]:
        """A read transaction: one consistent view for several operations."""
        ...

    def write(self) -> contextlib.AbstractContextManager[Transaction]:
        """A write transaction: commits when the block ends, rolls back when it raises."""
        ...

    def single(self) -> contextlib.AbstractContextManager[Transaction]:
        """For one read statement (its own consistent snapshot): no transaction around it."""
        ...

    # subjects and API tokens

    def count_subjects(self) -> int:
        """Number of subjects."""
        ...

    def create_subject(self, subject: SubjectRecord, token_hashes: Sequence[str], now: int) -> None:
        """Insert a subject, its group memberships and bearer tokens (by hash)."""
        ...

    def get_subject(self, subject_id: str) -> SubjectRecord | None:
        """A subject with its groups, or None."""
        ...

    def add_api_token(self, subject_id: str, token_hash: str, now: int) -> None:
        """Give a subject another bearer token (raises NotFoundError for an unknown subject)."""
        ...

    def add_group_membership(self, subject_id: str, group_id: str) -> None:
        """Add a subject to a group (idempotent; NotFoundError for an unknown subject)."""
        ...

    def subject_for_token(self, token_hash: str) -> SubjectRecord | None:
        """The subject a bearer token (by hash) belongs to, or None."""
        ...

    # runners

    def insert_runner(self, runner: RunnerRecord, tokens: Sequence[RunnerTokenRecord]) -> None:
        """Insert a runner with its first tokens (AlreadyExistsError: LOCAL_CONFIGURATION taken)."""
        ...

    def get_runner(self, runner_id: str) -> RunnerRecord | None:
        """A runner, or None."""
        ...

    def list_runners(
        self, query: RunnerQuery, after: tuple[int, str] | None, limit: int
    ) -> list[RunnerRecord]:
        """Up to ``limit`` runners after the keyset position ``(created_at, id)``, in order."""
        ...

    def update_runner(
        self, runner_id: str, change: Callable[[RunnerRecord], RunnerRecord | None]
    ) -> RunnerRecord | None:
        """Apply ``change`` to the current row in one transaction.

        ``change`` returns the new row, or None when nothing changes. Returns the row as it is
        afterwards, or None when the runner does not exist.
        """
        ...

    def delete_runner(self, runner_id: str) -> bool:
        """Delete a runner and everything it owns; False if it did not exist."""
        ...

    # runner tokens

    def insert_runner_token(self, token: RunnerTokenRecord) -> None:
        """Store a runner token (by hash)."""
        ...

    def redeem_runner_token(self, token_hash: str, purpose: str, now: int) -> str | None:
        """Use a single-use token: the runner id if it was valid, unused and unexpired."""
        ...

    # policies

    def roles_for(self, runner_id: str, group_ids: Sequence[str]) -> list[int]:
        """The roles that policies of the runner give any of these groups."""
        ...

    def get_policy(self, runner_id: str, group_id: str) -> PolicyRecord | None:
        """One policy, or None."""
        ...

    def list_policies(self, runner_id: str, after: str | None, limit: int) -> list[PolicyRecord]:
        """Up to ``limit`` policies of a runner with group ids after ``after``, in order."""
        ...

    def insert_policy(self, policy: PolicyRecord, now: int) -> None:
        """Insert a policy; AlreadyExistsError if the group has one on the runner."""
        ...

    def update_policy(self, policy: PolicyRecord, now: int) -> bool:
        """Change a policy's role; False if it does not exist."""
        ...

    def delete_policy(self, runner_id: str, group_id: str) -> bool:
        """Delete a policy; False if it did not exist."""
        ...


__all__ = [
    "AlreadyExistsError",
    "NotFoundError",
    "PolicyRecord",
    "RunnerQuery",
    "RunnerRecord",
    "RunnerTokenRecord",
    "Store",
    "SubjectRecord",
]
