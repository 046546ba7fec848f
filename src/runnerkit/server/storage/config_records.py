"""The ``ConfigStore`` Protocol of the runner configuration (records: ``records.py``).

Environment classes, SCM integrations and host authentication tokens belong to a runner and go
with it (foreign keys ``ON DELETE CASCADE``). Secrets are stored only sealed to the runner's
public key (``*_sealed`` bytes); times are microseconds since the Unix epoch in UTC, as in
``storage.base``. Every method is one transaction; ``DomainError`` exceptions raised by
callbacks roll it back and pass through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from runnerkit.server.storage.records import (
    EnvironmentClassQuery,
    EnvironmentClassRecord,
    HostTokenQuery,
    HostTokenRecord,
    SCMChange,
    SCMIntegrationQuery,
    SCMIntegrationRecord,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class ConfigStore(Protocol):
    """Persistence of environment classes, SCM integrations and host authentication tokens."""

    # environment classes

    def insert_environment_class(self, record: EnvironmentClassRecord) -> None:
        """Insert an environment class (its runner must exist: NotFoundError otherwise)."""
        ...

    def get_environment_class(self, class_id: str) -> EnvironmentClassRecord | None:
        """An environment class, or None."""
        ...

    def list_environment_classes(
        self, query: EnvironmentClassQuery, after: tuple[int, str] | None, limit: int
    ) -> list[EnvironmentClassRecord]:
        """Up to ``limit`` classes after the keyset position ``(created_at, id)``, in order."""
        ...

    def update_environment_class(
        self,
        class_id: str,
        change: Callable[[EnvironmentClassRecord], EnvironmentClassRecord | None],
    ) -> EnvironmentClassRecord | None:
        """Apply ``change`` (None: no change) in one transaction; None if the class is gone."""
        ...

    # SCM integrations

    def insert_scm_integration(self, record: SCMIntegrationRecord) -> None:
        """Insert an integration; AlreadyExistsError if the runner has one for the host."""
        ...

    def get_scm_integration(self, integration_id: str) -> SCMIntegrationRecord | None:
        """An integration, or None."""
        ...

    def list_scm_integrations(
        self, query: SCMIntegrationQuery, after: tuple[int, str] | None, limit: int
    ) -> list[SCMIntegrationRecord]:
        """Up to ``limit`` integrations after ``(created_at, id)``, in order."""
        ...

    def scm_integrations_of_runner(self, runner_id: str) -> list[SCMIntegrationRecord]:
        """All integrations of a runner, in creation order."""
        ...

    def update_scm_integration(
        self,
        integration_id: str,
        change: Callable[[SCMIntegrationRecord], SCMChange | None],
    ) -> SCMIntegrationRecord | None:
        """Apply ``change`` in one transaction; None if the integration is gone.

        ``change`` returns None (no change) or the new row and the token sources whose host
        tokens of the integration's runner and host are deleted in the same transaction.
        """
        ...

    def delete_scm_integration(self, integration_id: str, token_sources: Sequence[int]) -> bool:
        """Delete an integration and its runner+host's tokens of these sources; False if gone."""
        ...

    # host authentication tokens

    def insert_host_token(self, record: HostTokenRecord) -> None:
        """Insert a token.

        Raises AlreadyExistsError when the (runner, host, subject) has one, and
        InvalidArgumentError (``integration_id``) when ``integration_id`` names no integration
        of the same runner and host.
        """
        ...

    def get_host_token(self, token_id: str) -> HostTokenRecord | None:
        """A token, or None."""
        ...

    def find_host_token(self, runner_id: str, host: str, subject_id: str) -> HostTokenRecord | None:
        """The subject's token for a runner and a normalised host (expired or not), or None."""
        ...

    def list_host_tokens(
        self, query: HostTokenQuery, after: tuple[int, str] | None, limit: int
    ) -> list[HostTokenRecord]:
        """Up to ``limit`` tokens after ``(created_at, id)``, in order."""
        ...

    def update_host_token(
        self, token_id: str, change: Callable[[HostTokenRecord], HostTokenRecord | None]
    ) -> HostTokenRecord | None:
        """Apply ``change`` (None: no change) in one transaction; None if the token is gone."""
        ...

    def delete_host_token(self, token_id: str) -> bool:
        """Delete a token; False if it did not exist."""
        ...

    def has_unexpired_host_token(
        self, runner_id: str | None, host: str, subject_id: str, now: int
    ) -> bool:
        """Whether the subject holds an unexpired token for the host (on the runner, or any)."""
        ...

    def host_token_hosts(self, runner_id: str, subject_id: str, now: int) -> list[str]:
        """The hosts (sorted) for which the subject holds an unexpired token on the runner."""
        ...


__all__ = [
    "ConfigStore",
    "EnvironmentClassQuery",
    "EnvironmentClassRecord",
    "HostTokenQuery",
    "HostTokenRecord",
    "SCMChange",
    "SCMIntegrationQuery",
    "SCMIntegrationRecord",
]
