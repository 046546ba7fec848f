"""Runner operations: create, get, list, update, delete, runner and logs tokens."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from google.protobuf import timestamp_pb2

from runnerkit.server import crypto
from runnerkit.server.domain.access import Access, may_create_runners, require, runner_access
from runnerkit.server.domain.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from runnerkit.server.domain.ids import new_id, parse_uuid
from runnerkit.server.domain.runners import apply_update, check_enum, validate_create
from runnerkit.server.pagination import fingerprint, page_size
from runnerkit.server.service import MICROS
from runnerkit.server.storage.base import RunnerQuery, RunnerRecord, RunnerTokenRecord
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import SubjectRecord
    from runnerkit.server.storage.transaction import Transaction

EXCHANGE_TOKEN_TTL = 24 * 3600 * MICROS
LOGS_TOKEN_TTL = 3600 * MICROS
EXCHANGE = "exchange"
LOGS = "logs"
# A Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, in seconds.
_SECONDS_MIN = -62_135_596_800
_SECONDS_MAX = 253_402_300_799
_NANOS_PER_MICRO = 1000
# Encoded views kept for list pages (see runner_view_bytes): ~1 KB each with its record.
VIEW_CACHE_SIZE = 1024


def timestamp(micros: int) -> timestamp_pb2.Timestamp:
    """A protobuf Timestamp for microseconds since the epoch."""
    ts = timestamp_pb2.Timestamp()
    ts.FromMicroseconds(micros)
    return ts


def fill_runner(runner: runner_pb2.Runner, record: RunnerRecord) -> None:
    """Fill an empty ``Runner`` (e.g. a response's field) with the API's view of a stored runner.

    Secrets appear only as sealed bytes or not at all. Creator, spec, status and both times
    are always present, even when empty (setting a field of a sub-message marks it present).

    Args:
        runner: A new, empty message (filled in place: no copy of a finished one).
        record: The stored runner.

    Raises:
        ValueError: A time is outside the range of ``Timestamp`` (as ``FromMicroseconds``).
    """
    runner.runner_id = record.id
    runner.name = record.name
    runner.kind = record.kind  # type: ignore[assignment]
    runner.provider = record.provider  # type: ignore[assignment]
    runner.runner_manager_id = record.runner_manager_id
    creator = runner.creator
    creator.id = record.creator_id
    creator.principal = record.creator_principal  # type: ignore[assignment]
    spec = runner.spec
    spec.SetInParent()
    spec.MergeFromString(record.spec)
    status = runner.status
    status.MergeFromString(record.status)
    status.public_key = record.public_key
    _set_time(runner.created_at, record.created_at)
    _set_time(runner.updated_at, record.updated_at)


def _set_time(stamp: timestamp_pb2.Timestamp, micros: int) -> None:
    """``stamp.FromMicroseconds(micros)`` without its Python layers; the same error."""
    seconds, rest = divmod(micros, MICROS)
    if not _SECONDS_MIN <= seconds <= _SECONDS_MAX:
        msg = (
            f"Timestamp is not valid: Seconds {seconds} must be in range "
            f"[{_SECONDS_MIN}, {_SECONDS_MAX}]."
        )
        raise ValueError(msg)
    stamp.seconds = seconds
    stamp.nanos = rest * _NANOS_PER_MICRO


def runner_message(record: RunnerRecord) -> runner_pb2.Runner:
    """The API's view of a stored runner (see :func:`fill_runner`)."""
    runner = runner_pb2.Runner()
    fill_runner(runner, record)
    return runner


@functools.lru_cache(maxsize=VIEW_CACHE_SIZE)
def runner_view_bytes(record: RunnerRecord) -> bytes:
    """:func:`runner_message` of ``record``, serialized; memoised by the whole record.

    The view depends on the record alone, so a record equal in every column (a runner listed
    again, unchanged) has the same view, and any change to any column is a different key:
    nothing can go stale. A page merges these bytes into its ``runners`` (one C call per
    runner) instead of filling each message field by field (about 3x the CPU).

    Raises:
        ValueError: As :func:`fill_runner` (exceptions are not memoised).
    """
    return runner_message(record).SerializeToString()


def runner_access_in(
    tx: Transaction, subject: SubjectRecord, runner_id: str, need: Access
) -> tuple[RunnerRecord, Access]:
    """A runner the caller needs ``need`` access to, and the caller's access; permission first.

    Args:
        tx: The request's transaction.
        subject: The caller.
        runner_id: The request's ``runner_id``.
        need: The access the operation needs.

    Returns:
        The runner and the caller's access to it (at least ``need``).

    Raises:
        InvalidArgumentError: ``runner_id`` is empty or malformed.
        PermissionDeniedError: The caller lacks ``need`` (also when the runner does not exist
            and the caller is no org admin: AIP-193).
        NotFoundError: The runner does not exist.
    """
    rid = parse_uuid(runner_id, "runner_id")
    # Org admins hold ADMIN whatever the policies say: no need to read them.
    groups = [] if subject.org_admin else sorted(subject.group_ids)
    record, roles = tx.get_runner_with_roles(rid, groups)
    access = runner_access(subject, record.creator_id if record else None, roles)
    require(access, need, rid)
    if record is None:
        raise NotFoundError(f"runner {rid} not found")
    return record, access


def runner_in(
    tx: Transaction, subject: SubjectRecord, runner_id: str, need: Access
) -> RunnerRecord:
    """Like :func:`runner_access_in`, the runner only."""
    return runner_access_in(tx, subject, runner_id, need)[0]


def load_runner(
    svc: Services, subject: SubjectRecord, runner_id: str, need: Access
) -> RunnerRecord:
    """:func:`runner_in` on its own: one statement, no transaction needed around it.

    Raises:
        InvalidArgumentError: ``runner_id`` is empty or malformed.
        PermissionDeniedError: The caller lacks ``need``.
        NotFoundError: The runner does not exist.
    """
    with svc.store.single() as tx:
        return runner_in(tx, subject, runner_id, need)


def _new_runner_token(svc: Services, runner_id: str, purpose: str) -> tuple[str, RunnerTokenRecord]:
    now = svc.clock()
    prefix, ttl = (
        (crypto.EXCHANGE_TOKEN_PREFIX, EXCHANGE_TOKEN_TTL)
        if purpose == EXCHANGE
        else (crypto.LOGS_TOKEN_PREFIX, LOGS_TOKEN_TTL)
    )
    token = crypto.new_token(prefix)
    return token, RunnerTokenRecord(crypto.hash_token(token), runner_id, purpose, now, now + ttl)


def create_runner(
    svc: Services, subject: SubjectRecord, request: runner_pb2.CreateRunnerRequest
) -> runner_pb2.CreateRunnerResponse:
    """CreateRunner: validate, make the key pair, store the runner and its exchange token."""
    if not may_create_runners(subject):
        raise PermissionDeniedError("permission denied: caller may not create runners")
    new = validate_create(request)
    now = svc.clock()
    runner_id = new_id()
    keys = crypto.new_runner_key_pair(svc.master_key)
    status = runner_pb2.RunnerStatus(
        phase=runner_pb2.RUNNER_PHASE_CREATED, updated_at=timestamp(now)
    )
    sealed_password = (
        crypto.seal(keys.public_key, new.metrics_password.encode()) if new.metrics_password else b""
    )
    record = RunnerRecord(
        id=runner_id,
        name=new.name,
        kind=new.kind,
        provider=new.provider,
        runner_manager_id=new.runner_manager_id,
        creator_id=subject.id,
        creator_principal=subject.principal,
        spec=new.spec.SerializeToString(deterministic=True),
        status=status.SerializeToString(deterministic=True),
        public_key=keys.public_key,
        wrapped_private_key=keys.wrapped_private_key,
        metrics_password_sealed=sealed_password,
        created_at=now,
        updated_at=now,
    )
    exchange_token, token_record = _new_runner_token(svc, runner_id, EXCHANGE)
    svc.store.insert_runner(record, [token_record])
    return runner_pb2.CreateRunnerResponse(
        runner=runner_message(record), exchange_token=exchange_token
    )


def get_runner(
    svc: Services, subject: SubjectRecord, request: runner_pb2.GetRunnerRequest
) -> runner_pb2.GetRunnerResponse:
    """GetRunner: needs USER."""
    response = runner_pb2.GetRunnerResponse()
    fill_runner(response.runner, load_runner(svc, subject, request.runner_id, Access.USER))
    return response


def list_runners(
    svc: Services, subject: SubjectRecord, request: runner_pb2.ListRunnersRequest
) -> runner_pb2.ListRunnersResponse:
    """ListRunners: the runners the caller may see, filtered, keyset-paged."""
    size = page_size(request.pagination)
    flt = request.filter
    query = RunnerQuery(
        visible_to=None if subject.org_admin else subject,
        creator_ids=sorted({parse_uuid(c, "filter.creator_ids") for c in flt.creator_ids}),
        kinds=sorted(
            {
                check_enum(rc_pb2.RunnerKind, k, "filter.kinds", allow_unspecified=False)
                for k in flt.kinds
            }
        ),
        providers=sorted(
            {
                check_enum(rc_pb2.RunnerProvider, p, "filter.providers", allow_unspecified=False)
                for p in flt.providers
            }
        ),
    )
    fp = fingerprint(request, subject.id)
    position = svc.page_tokens.decode(request.pagination.token, "ListRunners", fp)
    after: tuple[int, str] | None = None
    if position is not None:
        if (
            len(position) != 2
            or not isinstance(position[0], int)
            or not isinstance(position[1], str)
        ):
            raise InvalidArgumentError("pagination.token", "invalid page token")
        after = (position[0], position[1])
    rows = svc.store.list_runners(query, after, size + 1)
    response = runner_pb2.ListRunnersResponse()
    add = response.runners.add
    for record in rows[:size]:
        add().MergeFromString(runner_view_bytes(record))
    if len(rows) > size:
        last = rows[size - 1]
        response.pagination.next_token = svc.page_tokens.encode(
            "ListRunners", fp, [last.created_at, last.id]
        )
    return response


def _unsealed(svc: Services, record: RunnerRecord, sealed: bytes) -> str:
    if not sealed:
        return ""
    return crypto.unseal(svc.master_key, record.wrapped_private_key, sealed).decode()


def update_runner(
    svc: Services, subject: SubjectRecord, request: runner_pb2.UpdateRunnerRequest
) -> runner_pb2.UpdateRunnerResponse:
    """UpdateRunner: partial update by presence; ``updated_at`` moves only on a change."""

    def change(current: RunnerRecord) -> RunnerRecord | None:
        update = apply_update(
            current.name, current.kind, runner_pb2.RunnerSpec.FromString(current.spec), request
        )
        spec, config = update.spec, update.spec.configuration
        if update.honeycomb_api_key is not None:
            old = _unsealed(svc, current, config.encrypted_honeycomb_api_key)
            if update.honeycomb_api_key != old:
                config.encrypted_honeycomb_api_key = (
                    crypto.seal(current.public_key, update.honeycomb_api_key.encode())
                    if update.honeycomb_api_key
                    else b""
                )
        password = current.metrics_password_sealed
        if update.metrics_password is not None and update.metrics_password != _unsealed(
            svc, current, password
        ):
            password = (
                crypto.seal(current.public_key, update.metrics_password.encode())
                if update.metrics_password
                else b""
            )
        if not config.ByteSize():
            spec.ClearField("configuration")
        new_spec = spec.SerializeToString(deterministic=True)
        if (update.name, new_spec, password) == (
            current.name,
            current.spec,
            current.metrics_password_sealed,
        ):
            return None
        return current._replace(
            name=update.name,
            spec=new_spec,
            metrics_password_sealed=password,
            updated_at=max(svc.clock(), current.updated_at + 1),
        )

    with svc.store.write() as tx:  # permission check and change in one transaction
        record = runner_in(tx, subject, request.runner_id, Access.ADMIN)
        if tx.update_runner(record.id, change) is None:
            raise NotFoundError(f"runner {record.id} not found")
    return runner_pb2.UpdateRunnerResponse()


def delete_runner(
    svc: Services, subject: SubjectRecord, request: runner_pb2.DeleteRunnerRequest
) -> runner_pb2.DeleteRunnerResponse:
    """DeleteRunner: the runner and all it owns, at once (``force`` changes nothing here)."""
    with svc.store.write() as tx:
        record = runner_in(tx, subject, request.runner_id, Access.ADMIN)
        if not tx.delete_runner(record.id):
            raise NotFoundError(f"runner {record.id} not found")
    return runner_pb2.DeleteRunnerResponse()


def create_runner_token(
    svc: Services, subject: SubjectRecord, request: runner_pb2.CreateRunnerTokenRequest
) -> runner_pb2.CreateRunnerTokenResponse:
    """CreateRunnerToken: a new single-use exchange token, valid 24 h."""
    with svc.store.write() as tx:
        record = runner_in(tx, subject, request.runner_id, Access.ADMIN)
        token, token_record = _new_runner_token(svc, record.id, EXCHANGE)
        tx.insert_runner_token(token_record)
    return runner_pb2.CreateRunnerTokenResponse(exchange_token=token)


def create_runner_logs_token(
    svc: Services, subject: SubjectRecord, request: runner_pb2.CreateRunnerLogsTokenRequest
) -> runner_pb2.CreateRunnerLogsTokenResponse:
    """CreateRunnerLogsToken: an access token for the runner's logs, valid one hour."""
    with svc.store.write() as tx:
        record = runner_in(tx, subject, request.runner_id, Access.ADMIN)
        token, token_record = _new_runner_token(svc, record.id, LOGS)
        tx.insert_runner_token(token_record)
    return runner_pb2.CreateRunnerLogsTokenResponse(access_token=token)
