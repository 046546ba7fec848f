"""Records, queries and the ``ConfigStore`` Protocol of the runner configuration.

Environment classes, SCM integrations and host authentication tokens belong to a runner and go
with it (foreign keys ``ON DELETE CASCADE``). Secrets are stored only sealed to the runner's
public key (``*_sealed`` bytes); times are microseconds since the Unix epoch in UTC, as in
``storage.base``. Every method is one transaction; ``DomainError`` exceptions raised by
callbacks roll it back and pass through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from runnerkit.server.storage.base import SubjectRecord


@dataclass(frozen=True)
class EnvironmentClassRecord:
    """An environment class; ``configuration`` is the ordered (key, value) pairs as given."""

    id: str
    runner_id: str
    display_name: str
    description: str
    configuration: tuple[tuple[str, str], ...]
    enabled: bool
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class SCMIntegrationRecord:
    """An SCM integration; ``host`` is normalised; the OAuth secret is sealed (or empty)."""

    id: str
    runner_id: str
    scm_id: str
    host: str
    oauth_client_id: str | None
    oauth_client_secret_sealed: bytes
    issuer_url: str | None
    pat: bool
    virtual_directory: str | None
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class HostTokenRecord:
    """A host authentication token; the token values are sealed (refresh token may be empty)."""

    id: str
    runner_id: str
    host: str
    subject_id: str
    subject_principal: int
    source: int
    token_sealed: bytes
    refresh_token_sealed: bytes
    expires_at: int | None
    integration_id: str | None
    scopes: tuple[str, ...]
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class EnvironmentClassQuery:
    """Which classes ``list_environment_classes`` returns: AND across fields, OR within one.

    Attributes:
        viewer: Only classes of runners this subject may use (creator or any policy); None
            for all (org admins).
        runner_ids: Runner ids to match; empty matches all.
        runner_kinds: Kinds of the class's runner; empty matches all.
        runner_providers: Providers of the class's runner; empty matches all.
        enabled: Only enabled (True) or disabled (False) classes; None for both.
    """

    viewer: SubjectRecord | None = None
    runner_ids: Sequence[str] = ()
    runner_kinds: Sequence[int] = ()
    runner_providers: Sequence[int] = ()
    enabled: bool | None = None


@dataclass(frozen=True)
class SCMIntegrationQuery:
    """Which integrations ``list_scm_integrations`` returns.

    Attributes:
        viewer: Only integrations of runners this subject may use; None for all.
        runner_ids: Runner ids to match; empty matches all.
    """

    viewer: SubjectRecord | None = None
    runner_ids: Sequence[str] = ()


@dataclass(frozen=True)
class HostTokenQuery:
    """Which tokens ``list_host_tokens`` returns (all set fields must match).

    Attributes:
        viewer: Only tokens this subject may see: all tokens of runners it administers, its own
            tokens on runners it may use; None for all (org admins).
        runner_id: The token's runner.
        subject_id: The token's subject.
        user_id: The token's subject, which must be a USER.
    """

    viewer: SubjectRecord | None = None
    runner_id: str | None = None
    subject_id: str | None = None
    user_id: str | None = None


SCMChange = tuple[SCMIntegrationRecord, "Sequence[int]"]


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
