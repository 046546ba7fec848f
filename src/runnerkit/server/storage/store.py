"""``SQLStore``: the store on SQLite and PostgreSQL, every operation also as one call.

Units of work: ``with store.read() as tx`` / ``with store.write() as tx`` (``store_base.py``)
give a ``Transaction`` with every operation below, run in that one transaction; the service
layer uses them so that a request's permission check and its write share one transaction.
The methods here are the same operations, each its own unit of work: a read of one
statement runs without an explicit transaction (``single()``), the rest in ``read()`` or
``write()``. Errors as documented on ``Transaction`` (``AlreadyExistsError`` for a taken
unique key, ``NotFoundError`` for a missing owner, callbacks' ``DomainError`` pass through).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runnerkit.server.storage.sql_admin import AdminSQLMixin
from runnerkit.server.storage.store_base import SQLStoreBase

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from runnerkit.server.storage.records import (
        EnvironmentClassQuery,
        EnvironmentClassRecord,
        HostTokenQuery,
        HostTokenRecord,
        PolicyRecord,
        RunnerQuery,
        RunnerRecord,
        RunnerTokenRecord,
        SCMChange,
        SCMIntegrationQuery,
        SCMIntegrationRecord,
        SubjectRecord,
    )


class SQLStore(AdminSQLMixin, SQLStoreBase):
    """``Store`` on a SQLAlchemy engine (SQLite or PostgreSQL)."""

    # subjects

    def count_subjects(self) -> int:
        """Number of subjects."""
        with self.single() as tx:
            return tx.count_subjects()

    def create_subject(self, subject: SubjectRecord, token_hashes: Sequence[str], now: int) -> None:
        """Insert a subject, its group memberships and bearer tokens (by hash)."""
        with self.write() as tx:
            tx.create_subject(subject, token_hashes, now)

    def get_subject(self, subject_id: str) -> SubjectRecord | None:
        """A subject with its groups, or None."""
        with self.read() as tx:
            return tx.get_subject(subject_id)

    def add_api_token(self, subject_id: str, token_hash: str, now: int) -> None:
        """Give a subject another bearer token (NotFoundError for an unknown subject)."""
        with self.write() as tx:
            tx.add_api_token(subject_id, token_hash, now)

    def add_group_membership(self, subject_id: str, group_id: str) -> None:
        """Add a subject to a group (idempotent; NotFoundError for an unknown subject)."""
        with self.write() as tx:
            tx.add_group_membership(subject_id, group_id)

    def subject_for_token(self, token_hash: str) -> SubjectRecord | None:
        """The subject a bearer token (by hash) belongs to, or None (one statement)."""
        with self.single() as tx:
            return tx.subject_for_token(token_hash)

    # runners

    def insert_runner(self, runner: RunnerRecord, tokens: Sequence[RunnerTokenRecord]) -> None:
        """Insert a runner with its first tokens."""
        with self.write() as tx:
            tx.insert_runner(runner, tokens)

    def get_runner(self, runner_id: str) -> RunnerRecord | None:
        """A runner, or None."""
        with self.single() as tx:
            return tx.get_runner(runner_id)

    def list_runners(
        self, query: RunnerQuery, after: tuple[int, str] | None, limit: int
    ) -> list[RunnerRecord]:
        """Up to ``limit`` runners after the keyset position ``(created_at, id)``, in order."""
        with self.single() as tx:
            return tx.list_runners(query, after, limit)

    def update_runner(
        self, runner_id: str, change: Callable[[RunnerRecord], RunnerRecord | None]
    ) -> RunnerRecord | None:
        """Apply ``change`` to the current row (locked on PostgreSQL)."""
        with self.write() as tx:
            return tx.update_runner(runner_id, change)

    def delete_runner(self, runner_id: str) -> bool:
        """Delete a runner and everything it owns (foreign keys cascade); False if absent."""
        with self.write() as tx:
            return tx.delete_runner(runner_id)

    def insert_runner_token(self, token: RunnerTokenRecord) -> None:
        """Store a runner token (by hash); NotFoundError if the runner is gone."""
        with self.write() as tx:
            tx.insert_runner_token(token)

    def redeem_runner_token(self, token_hash: str, purpose: str, now: int) -> str | None:
        """Use a single-use token: the runner id if it was valid, unused and unexpired."""
        with self.write() as tx:
            return tx.redeem_runner_token(token_hash, purpose, now)

    # policies

    def roles_for(self, runner_id: str, group_ids: Sequence[str]) -> list[int]:
        """The roles that policies of the runner give any of these groups."""
        with self.single() as tx:
            return tx.roles_for(runner_id, group_ids)

    def get_policy(self, runner_id: str, group_id: str) -> PolicyRecord | None:
        """One policy, or None."""
        with self.single() as tx:
            return tx.get_policy(runner_id, group_id)

    def list_policies(self, runner_id: str, after: str | None, limit: int) -> list[PolicyRecord]:
        """Up to ``limit`` policies of a runner with group ids after ``after``, in order."""
        with self.single() as tx:
            return tx.list_policies(runner_id, after, limit)

    def insert_policy(self, policy: PolicyRecord, now: int) -> None:
        """Insert a policy."""
        with self.write() as tx:
            tx.insert_policy(policy, now)

    def update_policy(self, policy: PolicyRecord, now: int) -> bool:
        """Change a policy's role; False if it does not exist."""
        with self.write() as tx:
            return tx.update_policy(policy, now)

    def delete_policy(self, runner_id: str, group_id: str) -> bool:
        """Delete a policy; False if it did not exist."""
        with self.write() as tx:
            return tx.delete_policy(runner_id, group_id)

    # environment classes

    def insert_environment_class(self, record: EnvironmentClassRecord) -> None:
        """Insert an environment class (NotFoundError if its runner is gone)."""
        with self.write() as tx:
            tx.insert_environment_class(record)

    def get_environment_class(self, class_id: str) -> EnvironmentClassRecord | None:
        """An environment class, or None."""
        with self.single() as tx:
            return tx.get_environment_class(class_id)

    def list_environment_classes(
        self, query: EnvironmentClassQuery, after: tuple[int, str] | None, limit: int
    ) -> list[EnvironmentClassRecord]:
        """Up to ``limit`` classes after ``(created_at, id)``, in order."""
        with self.single() as tx:
            return tx.list_environment_classes(query, after, limit)

    def update_environment_class(
        self,
        class_id: str,
        change: Callable[[EnvironmentClassRecord], EnvironmentClassRecord | None],
    ) -> EnvironmentClassRecord | None:
        """Apply ``change`` (None: no change) to the current row; None if the class is gone."""
        with self.write() as tx:
            return tx.update_environment_class(class_id, change)

    # scm integrations

    def insert_scm_integration(self, record: SCMIntegrationRecord) -> None:
        """Insert an integration."""
        with self.write() as tx:
            tx.insert_scm_integration(record)

    def get_scm_integration(self, integration_id: str) -> SCMIntegrationRecord | None:
        """An integration, or None."""
        with self.single() as tx:
            return tx.get_scm_integration(integration_id)

    def list_scm_integrations(
        self, query: SCMIntegrationQuery, after: tuple[int, str] | None, limit: int
    ) -> list[SCMIntegrationRecord]:
        """Up to ``limit`` integrations after ``(created_at, id)``, in order."""
        with self.single() as tx:
            return tx.list_scm_integrations(query, after, limit)

    def scm_integrations_of_runner(self, runner_id: str) -> list[SCMIntegrationRecord]:
        """All integrations of a runner, in creation order."""
        with self.single() as tx:
            return tx.scm_integrations_of_runner(runner_id)

    def update_scm_integration(
        self, integration_id: str, change: Callable[[SCMIntegrationRecord], SCMChange | None]
    ) -> SCMIntegrationRecord | None:
        """Apply ``change`` and delete the host tokens it names; None if the integration is gone."""
        with self.write() as tx:
            return tx.update_scm_integration(integration_id, change)

    def delete_scm_integration(self, integration_id: str, token_sources: Sequence[int]) -> bool:
        """Delete an integration and its runner+host's tokens of these sources; False if gone."""
        with self.write() as tx:
            return tx.delete_scm_integration(integration_id, token_sources)

    # host tokens

    def insert_host_token(self, record: HostTokenRecord) -> None:
        """Insert a token."""
        with self.write() as tx:
            tx.insert_host_token(record)

    def get_host_token(self, token_id: str) -> HostTokenRecord | None:
        """A token, or None."""
        with self.single() as tx:
            return tx.get_host_token(token_id)

    def find_host_token(self, runner_id: str, host: str, subject_id: str) -> HostTokenRecord | None:
        """The subject's token for a runner and a normalised host (expired or not), or None."""
        with self.single() as tx:
            return tx.find_host_token(runner_id, host, subject_id)

    def list_host_tokens(
        self, query: HostTokenQuery, after: tuple[int, str] | None, limit: int
    ) -> list[HostTokenRecord]:
        """Up to ``limit`` tokens after ``(created_at, id)``, in order."""
        with self.single() as tx:
            return tx.list_host_tokens(query, after, limit)

    def update_host_token(
        self, token_id: str, change: Callable[[HostTokenRecord], HostTokenRecord | None]
    ) -> HostTokenRecord | None:
        """Apply ``change`` (None: no change) to the current row; None if the token is gone."""
        with self.write() as tx:
            return tx.update_host_token(token_id, change)

    def delete_host_token(self, token_id: str) -> bool:
        """Delete a token; False if it did not exist."""
        with self.write() as tx:
            return tx.delete_host_token(token_id)

    def has_unexpired_host_token(
        self, runner_id: str | None, host: str, subject_id: str, now: int
    ) -> bool:
        """Whether the subject holds an unexpired token for the host (on the runner, or any)."""
        with self.single() as tx:
            return tx.has_unexpired_host_token(runner_id, host, subject_id, now)

    def host_token_hosts(self, runner_id: str, subject_id: str, now: int) -> list[str]:
        """The hosts (sorted) for which the subject holds an unexpired token on the runner."""
        with self.single() as tx:
            return tx.host_token_hosts(runner_id, subject_id, now)
