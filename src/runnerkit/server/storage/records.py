"""The records and queries of the store: plain frozen dataclasses (runners: a named tuple).

Subjects hold bearer tokens; runners own runner tokens, policies, environment classes, SCM
integrations and host authentication tokens (all go with their runner). Secrets are stored
only sealed to the runner's public key (``*_sealed`` bytes) or as hashes. Times are integers,
microseconds since the Unix epoch in UTC, so that every backend stores and compares them
exactly. The field order of each record is the column order its table is read in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

_R = TypeVar("_R")


def row_reader(cls: type[_R]) -> Callable[[Sequence[Any]], _R]:
    """A fast constructor of a frozen record from a row holding every field, in field order.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``; a row
    read from the store needs no checks, so its values go into the instance dict at once.

    Args:
        cls: A dataclass.

    Returns:
        ``read(row) -> record``.
    """
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    new = object.__new__

    def read(row: Sequence[Any]) -> _R:
        record = new(cls)
        record.__dict__.update(zip(names, row, strict=True))
        return record

    return read


@dataclass(frozen=True)
class SubjectRecord:
    """An identity that holds bearer tokens: a user, a service account or a runner."""

    id: str
    principal: int
    name: str
    org_admin: bool = False
    runner_creator: bool = False
    group_ids: frozenset[str] = field(default_factory=frozenset)


class RunnerRecord(NamedTuple):
    """A runner as stored: scalar columns plus the spec and status as serialized protobuf.

    A named tuple, not a dataclass: a page of runners is built from the driver's row tuples,
    and ``tuple.__new__`` takes a row as it is (``read_runner``) at a fraction of the cost of
    filling a frozen dataclass. Change one with ``_replace``; ``_asdict()`` gives its columns.
    """

    id: str
    name: str
    kind: int
    provider: int
    runner_manager_id: str
    creator_id: str
    creator_principal: int
    spec: bytes
    status: bytes
    public_key: bytes
    wrapped_private_key: bytes
    created_at: int
    updated_at: int
    metrics_password_sealed: bytes = b""


@dataclass(frozen=True)
class RunnerTokenRecord:
    """A runner exchange token or logs token, by hash only."""

    token_hash: str
    runner_id: str
    purpose: str
    created_at: int
    expires_at: int


@dataclass(frozen=True)
class PolicyRecord:
    """A group's role on a runner."""

    runner_id: str
    group_id: str
    role: int


@dataclass(frozen=True)
class RunnerQuery:
    """Which runners ``list_runners`` returns: AND across fields, OR within one field.

    Attributes:
        visible_to: Restrict to runners this subject created or holds a policy on; None for
            all (org admins).
        creator_ids: Creator subject ids to match; empty matches all.
        kinds: Runner kinds to match; empty matches all.
        providers: Runner providers to match; empty matches all.
    """

    visible_to: SubjectRecord | None = None
    creator_ids: Sequence[str] = ()
    kinds: Sequence[int] = ()
    providers: Sequence[int] = ()


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

__all__ = [
    "EnvironmentClassQuery",
    "EnvironmentClassRecord",
    "HostTokenQuery",
    "HostTokenRecord",
    "PolicyRecord",
    "RunnerQuery",
    "RunnerRecord",
    "RunnerTokenRecord",
    "SCMChange",
    "SCMIntegrationQuery",
    "SCMIntegrationRecord",
    "SubjectRecord",
    "row_reader",
]
