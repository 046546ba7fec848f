"""RunnerConfigurationService: the schema, validation, and what its other operations share.

GetRunnerConfigurationSchema and ValidateRunnerConfiguration live here, together with the
helpers the environment-class, SCM-integration and host-token operations use: the rejection
of an invalid configuration (``ConfigurationInvalidError``: ``invalid_argument`` whose message
names the fields and whose detail is the validation result, exactly as Validate answers it),
permission-before-existence for resources that belong to a runner, and keyset paging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

from nacl.exceptions import CryptoError

from runnerkit.server import crypto
from runnerkit.server.domain.access import Access
from runnerkit.server.domain.config_schema import schema_for
from runnerkit.server.domain.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from runnerkit.server.domain.ids import parse_uuid
from runnerkit.server.domain.validation import validate_environment_class, validate_scm_integration
from runnerkit.server.pagination import fingerprint, page_size
from runnerkit.server.service.runners import runner_access_in, runner_in
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from google.protobuf.message import Message

    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import RunnerRecord, SubjectRecord
    from runnerkit.server.storage.records import SCMIntegrationRecord
    from runnerkit.server.storage.transaction import Transaction
    from runnerkit_proto.gitpod.v1 import pagination_pb2

MAX_CONFIGURATION_ENTRIES = 100
_SCM_RESULT_FIELDS = (
    ("scm_id_error", "scm_id"),
    ("host_error", "host"),
    ("oauth_error", "oauth"),
    ("pat_error", "pat"),
)


class ConfigurationInvalidError(InvalidArgumentError):
    """A configuration failed validation: ``invalid_argument`` with the result as detail.

    Attributes:
        result: The ``EnvironmentClassValidationResult`` or ``SCMIntegrationValidationResult``
            that ValidateRunnerConfiguration would answer for the same input.
    """

    def __init__(self, what: str, problems: Sequence[tuple[str, str]], result: Message) -> None:
        message = f"invalid {what}: " + "; ".join(f"{f}: {e}" for f, e in problems)
        super().__init__(problems[0][0], "")
        self.message = message
        self.args = (message,)
        self.result = result


def reject_invalid_environment_class(result: rc_pb2.EnvironmentClassValidationResult) -> None:
    """Raise ``ConfigurationInvalidError`` unless ``result`` is valid.

    Args:
        result: The validator's answer.

    Raises:
        ConfigurationInvalidError: Naming every field at fault.
    """
    if result.valid:
        return
    problems = []
    if result.HasField("display_name_error"):
        problems.append(("display_name", result.display_name_error))
    if result.HasField("description_error"):
        problems.append(("description", result.description_error))
    problems.extend(
        (f"configuration[{e.key}]" if e.key else "configuration", e.error)
        for e in result.configuration_errors
    )
    raise ConfigurationInvalidError("environment class", problems, result)


def reject_invalid_scm_integration(result: rc_pb2.SCMIntegrationValidationResult) -> None:
    """Raise ``ConfigurationInvalidError`` unless ``result`` is valid.

    Args:
        result: The validator's answer.

    Raises:
        ConfigurationInvalidError: Naming every field at fault.
    """
    if result.valid:
        return
    problems = [
        (name, getattr(result, attr))
        for attr, name in _SCM_RESULT_FIELDS
        if result.HasField(attr)  # type: ignore[arg-type]
    ]
    raise ConfigurationInvalidError("SCM integration", problems, result)


def check_configuration_size(entries: Sequence[rc_pb2.FieldValue], field: str) -> None:
    """Reject more configuration entries than any schema could accept."""
    if len(entries) > MAX_CONFIGURATION_ENTRIES:
        raise InvalidArgumentError(field, f"at most {MAX_CONFIGURATION_ENTRIES} entries")


class OwnedRecord(Protocol):
    """A stored resource that belongs to a runner."""

    @property
    def runner_id(self) -> str:
        """The owning runner's id."""
        ...


_Owned = TypeVar("_Owned", bound=OwnedRecord)


def load_owned(
    tx: Transaction,
    subject: SubjectRecord,
    raw_id: str,
    fetch: Callable[[str], _Owned | None],
    *,
    field: str,
    need: Access,
    what: str,
) -> tuple[_Owned, RunnerRecord, Access]:
    """A runner-owned resource, its runner and the caller's access, permission before existence.

    Args:
        tx: The request's transaction.
        subject: The caller.
        raw_id: The request's id of the resource.
        fetch: Reads the resource by its (parsed) id in ``tx``; None when it does not exist.
        field: The request field holding the id, for errors.
        need: The access the operation needs on the owning runner.
        what: The resource's kind, for messages (e.g. ``environment class``).

    Returns:
        The resource, its runner and the caller's access to the runner.

    Raises:
        InvalidArgumentError: ``raw_id`` is empty or not a UUID.
        PermissionDeniedError: The caller lacks ``need``; also for a resource that does not
            exist when the caller is no org admin (AIP-193, as for runners).
        NotFoundError: The resource does not exist (org admins).
    """
    resource_id = parse_uuid(raw_id, field)
    record = fetch(resource_id)
    if record is None:
        if subject.org_admin:
            raise NotFoundError(f"{what} {resource_id} not found")
        raise PermissionDeniedError(f"permission denied on {what} {resource_id}")
    try:
        runner, access = runner_access_in(tx, subject, record.runner_id, need)
    except NotFoundError:  # the runner went between the two reads
        raise NotFoundError(f"{what} {resource_id} not found") from None
    return record, runner, access


class PagedRequest(Protocol):
    """A List request: a message with ``pagination``."""

    @property
    def pagination(self) -> pagination_pb2.PaginationRequest:
        """The request's pagination."""
        ...


def keyset_start(
    svc: Services, subject: SubjectRecord, request: PagedRequest, rpc: str
) -> tuple[int, str, tuple[int, str] | None]:
    """Page size, filter fingerprint and the keyset position to continue after.

    Args:
        svc: The services.
        subject: The caller.
        request: The List request (a message).
        rpc: The RPC's name, which the page token is bound to.

    Returns:
        ``(size, fingerprint, after)``; ``after`` is None on the first page.

    Raises:
        InvalidArgumentError: A negative page size or a bad page token.
    """
    size = page_size(request.pagination)
    fp = fingerprint(request, subject.id)  # type: ignore[arg-type]
    position = svc.page_tokens.decode(request.pagination.token, rpc, fp)
    if position is None:
        return size, fp, None
    if len(position) != 2 or not isinstance(position[0], int) or not isinstance(position[1], str):
        raise InvalidArgumentError("pagination.token", "invalid page token")
    return size, fp, (position[0], position[1])


class Keyed(Protocol):
    """A record with a keyset position."""

    @property
    def created_at(self) -> int:
        """Creation time (µs)."""
        ...

    @property
    def id(self) -> str:
        """Id."""
        ...


def next_token(svc: Services, rpc: str, fp: str, rows: Sequence[Keyed], size: int) -> str:
    """The ``next_token`` for a page read with ``limit = size + 1`` ("" when it is the last)."""
    if len(rows) <= size:
        return ""
    last = rows[size - 1]
    return svc.page_tokens.encode(rpc, fp, [last.created_at, last.id])


def get_runner_configuration_schema(
    svc: Services, subject: SubjectRecord, request: rc_pb2.GetRunnerConfigurationSchemaRequest
) -> rc_pb2.GetRunnerConfigurationSchemaResponse:
    """GetRunnerConfigurationSchema: the schema of the runner's provider (needs USER)."""
    with svc.store.read() as tx:
        runner = runner_in(tx, subject, request.runner_id, Access.USER)
    return rc_pb2.GetRunnerConfigurationSchemaResponse(schema=schema_for(runner.provider))


def validate_runner_configuration(
    svc: Services, subject: SubjectRecord, request: rc_pb2.ValidateRunnerConfigurationRequest
) -> rc_pb2.ValidateRunnerConfigurationResponse:
    """ValidateRunnerConfiguration: invalid content is a result, not an error (needs USER).

    The schema's rules skip this request (the real API's ``disabled``): a malformed runner id
    is no invalid_argument here but names no runner (not_found, or permission_denied for
    callers who are no org admin, as for any runner that does not exist).
    """
    which = request.WhichOneof("config")
    runner_id = request.runner_id
    if which == "environment_class" and not runner_id:
        runner_id = request.environment_class.runner_id
    try:
        runner_id = parse_uuid(runner_id, "runner_id")
    except InvalidArgumentError:
        if subject.org_admin:
            raise NotFoundError("runner not found") from None
        raise PermissionDeniedError("permission denied on runner") from None
    with svc.store.read() as tx:
        runner = runner_in(tx, subject, runner_id, Access.USER)
        existing = _existing_scm(tx, runner, request)
    schema = schema_for(runner.provider)
    if which == "environment_class":
        ec = request.environment_class
        if len(ec.configuration) > MAX_CONFIGURATION_ENTRIES:  # a result here, not an error
            too_many = rc_pb2.FieldValidationError(
                error=f"at most {MAX_CONFIGURATION_ENTRIES} configuration entries"
            )
            return rc_pb2.ValidateRunnerConfigurationResponse(
                environment_class=rc_pb2.EnvironmentClassValidationResult(
                    valid=False, configuration_errors=[too_many]
                )
            )
        result = validate_environment_class(
            schema,
            display_name=ec.display_name,
            description=ec.description,
            configuration=ec.configuration,
        )
        return rc_pb2.ValidateRunnerConfigurationResponse(environment_class=result)
    if which == "scm_integration":
        return rc_pb2.ValidateRunnerConfigurationResponse(
            scm_integration=_validate_scm(svc, runner, request.scm_integration, existing)
        )
    raise InvalidArgumentError("config", "set environment_class or scm_integration")


def _existing_scm(
    tx: Transaction, runner: RunnerRecord, request: rc_pb2.ValidateRunnerConfigurationRequest
) -> SCMIntegrationRecord | None:
    """The runner's SCM integration a validation request names by ``id``, if it names one."""
    scm = request.scm_integration
    if request.WhichOneof("config") != "scm_integration" or not scm.id:
        return None
    try:
        integration_id = parse_uuid(scm.id, "scm_integration.id")
    except InvalidArgumentError:  # no rule applies here: a malformed id names nothing
        raise NotFoundError(f"SCM integration not found on runner {runner.id}") from None
    existing = tx.get_scm_integration(integration_id)
    if existing is None or existing.runner_id != runner.id:
        raise NotFoundError(f"SCM integration {integration_id} not found on runner {runner.id}")
    return existing


def _validate_scm(
    svc: Services,
    runner: RunnerRecord,
    scm: rc_pb2.ValidateRunnerConfigurationRequest.ValidateSCMIntegration,
    existing: SCMIntegrationRecord | None,
) -> rc_pb2.SCMIntegrationValidationResult:
    secret_kind = scm.WhichOneof("oauth_client_secret")
    secret_set = bool(secret_kind and getattr(scm, secret_kind))
    if existing is not None:
        secret_set = secret_set or bool(existing.oauth_client_secret_sealed)
    result = validate_scm_integration(
        schema_for(runner.provider),
        scm_id=scm.scm_id,
        host=scm.host,
        oauth_client_id=scm.oauth_client_id if scm.HasField("oauth_client_id") else None,
        oauth_client_secret_set=secret_set,
        pat=scm.pat,
        issuer_url=scm.issuer_url if scm.HasField("issuer_url") else None,
        virtual_directory=scm.virtual_directory if scm.HasField("virtual_directory") else None,
    )
    encrypted = secret_kind == "oauth_encrypted_client_secret"  # noqa: S105 - a field name
    if encrypted and not result.HasField("oauth_error"):
        try:
            crypto.unseal(
                svc.master_key, runner.wrapped_private_key, scm.oauth_encrypted_client_secret
            )
        except CryptoError:
            result.oauth_error = "oauth_encrypted_client_secret is not sealed to this runner's key"
            result.valid = False
    return result
