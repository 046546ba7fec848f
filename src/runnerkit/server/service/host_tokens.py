"""Host authentication token operations: create, get, list, update, delete.

``token`` and ``refresh_token`` are sealed to the runner's public key and never returned. A
token belongs to a subject (the caller unless set; ``user_id`` is the deprecated alias of a
USER subject). Runner USERs manage their own tokens; runner ADMINs (and org admins) manage
everyone's, and only they may create tokens for another subject.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from runnerkit.server import crypto
from runnerkit.server.domain.access import Access, require
from runnerkit.server.domain.errors import InvalidArgumentError, NotFoundError
from runnerkit.server.domain.ids import new_id, parse_uuid
from runnerkit.server.domain.runners import check_text
from runnerkit.server.domain.scm_catalog import normalize_host
from runnerkit.server.domain.validation import check_host
from runnerkit.server.service.configuration import (
    keyset_start,
    load_owned,
    next_token,
)
from runnerkit.server.service.runners import runner_access_in, timestamp
from runnerkit.server.storage.config_records import HostTokenQuery, HostTokenRecord
from runnerkit_proto.gitpod.v1 import identity_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2

if TYPE_CHECKING:
    from collections.abc import Sequence

    from google.protobuf import timestamp_pb2

    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import RunnerRecord, SubjectRecord
    from runnerkit.server.storage.transaction import Transaction

MAX_SCOPE = 255
MAX_TOKEN = 8192
_WHAT = "host authentication token"
_LIST = "ListHostAuthenticationTokens"
_USER = identity_pb2.PRINCIPAL_USER
_TOKEN_PRINCIPALS = (identity_pb2.PRINCIPAL_USER, identity_pb2.PRINCIPAL_SERVICE_ACCOUNT)
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799  # 0001-01-01 .. 9999-12-31


def host_token_message(record: HostTokenRecord) -> rc_pb2.HostAuthenticationToken:
    """The API's view of a stored token: metadata only, never the token values."""
    message = rc_pb2.HostAuthenticationToken(
        id=record.id,
        runner_id=record.runner_id,
        host=record.host,
        source=record.source,  # type: ignore[arg-type]
        integration_id=record.integration_id or "",
        scopes=list(record.scopes),
        subject=identity_pb2.Subject(id=record.subject_id, principal=record.subject_principal),  # type: ignore[arg-type]
    )
    if record.subject_principal == _USER:
        message.user_id = record.subject_id
    if record.expires_at is not None:
        message.expires_at.CopyFrom(timestamp(record.expires_at))
    return message


def _micros(value: timestamp_pb2.Timestamp, field: str) -> int:
    if not _MIN_SECONDS <= value.seconds <= _MAX_SECONDS or not 0 <= value.nanos < 10**9:
        raise InvalidArgumentError(field, "not a valid timestamp")
    return value.ToMicroseconds()


def _scopes(scopes: Sequence[str], field: str) -> tuple[str, ...]:
    for scope in scopes:
        check_text(scope, field, MAX_SCOPE, required=True)
    return tuple(scopes)


def _seal(runner: RunnerRecord, value: str, field: str, *, required: bool = False) -> bytes:
    check_text(value, field, MAX_TOKEN, required=required)
    return crypto.seal(runner.public_key, value.encode()) if value else b""


def _owner(
    tx: Transaction,
    subject: SubjectRecord,
    runner: RunnerRecord,
    access: Access,
    request: rc_pb2.CreateHostAuthenticationTokenRequest,
) -> tuple[str, int]:
    """The token's subject: ``subject``, else ``user_id`` (a USER), else the caller.

    Naming anyone but the caller needs ADMIN on the runner (checked before the subject is
    looked up).
    """
    # subject.id (a UUID, or empty) and subject.principal (a defined value) are the schema's
    # rules; an empty subject.id names nobody: then user_id, else the caller.
    given = request.subject
    principal = int(given.principal)
    if principal and principal not in _TOKEN_PRINCIPALS:
        raise InvalidArgumentError("subject.principal", "must be USER or SERVICE_ACCOUNT")
    if given.id:
        sid = parse_uuid(given.id, "subject.id")
        if request.user_id and parse_uuid(request.user_id, "user_id") != sid:
            raise InvalidArgumentError("user_id", "differs from subject.id")
    elif request.user_id:
        sid, principal = parse_uuid(request.user_id, "user_id"), principal or _USER
    elif not principal:
        return subject.id, subject.principal
    else:
        sid = subject.id
    if sid == subject.id:
        stored_principal = subject.principal
    else:
        # Permission before existence: only runner admins may name another subject.
        require(access, Access.ADMIN, runner.id)
        other = tx.get_subject(sid)
        if other is None:
            raise NotFoundError(f"subject {sid} not found")
        stored_principal = other.principal
    if principal and principal != stored_principal:
        raise InvalidArgumentError("subject.principal", f"does not match subject {sid}")
    return sid, stored_principal


def create_host_authentication_token(
    svc: Services,
    subject: SubjectRecord,
    request: rc_pb2.CreateHostAuthenticationTokenRequest,
) -> rc_pb2.CreateHostAuthenticationTokenResponse:
    """CreateHostAuthenticationToken: USER for one's own token, ADMIN for another's."""
    with svc.store.write() as tx:  # permission check and insert in one transaction
        runner, access = runner_access_in(tx, subject, request.runner_id, Access.USER)
        owner_id, owner_principal = _owner(tx, subject, runner, access, request)
        check_text(request.host, "host", 255, required=True)
        host = normalize_host(request.host)
        problem = check_host(host)
        if problem is not None:
            raise InvalidArgumentError("host", problem)
        source = request.source  # a defined value: the schema's rule
        integration_id = (
            parse_uuid(request.integration_id, "integration_id") if request.integration_id else None
        )
        now = svc.clock()
        record = HostTokenRecord(
            id=new_id(),
            runner_id=runner.id,
            host=host,
            subject_id=owner_id,
            subject_principal=owner_principal,
            source=source,
            token_sealed=_seal(runner, request.token, "token", required=True),
            refresh_token_sealed=_seal(runner, request.refresh_token, "refresh_token"),
            expires_at=(
                _micros(request.expires_at, "expires_at")
                if request.HasField("expires_at")
                else None
            ),
            integration_id=integration_id,
            scopes=_scopes(request.scopes, "scopes"),
            created_at=now,
            updated_at=now,
        )
        tx.insert_host_token(record)
    return rc_pb2.CreateHostAuthenticationTokenResponse(token=host_token_message(record))


def _load(
    tx: Transaction, subject: SubjectRecord, token_id: str
) -> tuple[HostTokenRecord, RunnerRecord]:
    """A token the caller may manage: its own (USER on the runner) or any (runner ADMIN)."""
    record, runner, access = load_owned(
        tx, subject, token_id, tx.get_host_token, field="id", need=Access.USER, what=_WHAT
    )
    if record.subject_id != subject.id:
        require(access, Access.ADMIN, runner.id)
    return record, runner


def get_host_authentication_token(
    svc: Services, subject: SubjectRecord, request: rc_pb2.GetHostAuthenticationTokenRequest
) -> rc_pb2.GetHostAuthenticationTokenResponse:
    """GetHostAuthenticationToken: the owner (USER) or a runner ADMIN."""
    with svc.store.read() as tx:
        record, _ = _load(tx, subject, request.id)
    return rc_pb2.GetHostAuthenticationTokenResponse(token=host_token_message(record))


def list_host_authentication_tokens(
    svc: Services, subject: SubjectRecord, request: rc_pb2.ListHostAuthenticationTokensRequest
) -> rc_pb2.ListHostAuthenticationTokensResponse:
    """ListHostAuthenticationTokens: own tokens on usable runners, all on administered ones."""
    size, fp, after = keyset_start(svc, subject, request, _LIST)
    flt = request.filter
    query = HostTokenQuery(
        viewer=None if subject.org_admin else subject,
        runner_id=(
            parse_uuid(flt.runner_id, "filter.runner_id") if flt.HasField("runner_id") else None
        ),
        subject_id=(
            parse_uuid(flt.subject_id, "filter.subject_id") if flt.HasField("subject_id") else None
        ),
        user_id=parse_uuid(flt.user_id, "filter.user_id") if flt.HasField("user_id") else None,
    )
    rows = svc.store.list_host_tokens(query, after, size + 1)
    response = rc_pb2.ListHostAuthenticationTokensResponse(
        tokens=[host_token_message(r) for r in rows[:size]]
    )
    response.pagination.next_token = next_token(svc, _LIST, fp, rows, size)
    return response


def update_host_authentication_token(
    svc: Services, subject: SubjectRecord, request: rc_pb2.UpdateHostAuthenticationTokenRequest
) -> rc_pb2.UpdateHostAuthenticationTokenResponse:
    """UpdateHostAuthenticationToken: token, refresh token, expiry, scopes by presence.

    A present ``token`` must not be empty; a present empty ``refresh_token`` removes it; a
    non-empty ``scopes`` list replaces the scopes (an empty one leaves them).
    """
    with svc.store.write() as tx:  # permission check and change in one transaction
        record, runner = _load(tx, subject, request.id)
        token = (
            _seal(runner, request.token, "token", required=True)
            if request.HasField("token")
            else None
        )
        refresh = (
            _seal(runner, request.refresh_token, "refresh_token")
            if request.HasField("refresh_token")
            else None
        )
        expires = (
            _micros(request.expires_at, "expires_at") if request.HasField("expires_at") else None
        )
        scopes = _scopes(request.scopes, "scopes") if request.scopes else None

        def change(current: HostTokenRecord) -> HostTokenRecord | None:
            updated = dataclasses.replace(
                current,
                token_sealed=current.token_sealed if token is None else token,
                refresh_token_sealed=current.refresh_token_sealed if refresh is None else refresh,
                expires_at=current.expires_at if expires is None else expires,
                scopes=current.scopes if scopes is None else scopes,
            )
            if updated == current:
                return None
            return dataclasses.replace(updated, updated_at=max(svc.clock(), current.updated_at + 1))

        if tx.update_host_token(record.id, change) is None:
            raise NotFoundError(f"{_WHAT} {record.id} not found")
    return rc_pb2.UpdateHostAuthenticationTokenResponse()


def delete_host_authentication_token(
    svc: Services, subject: SubjectRecord, request: rc_pb2.DeleteHostAuthenticationTokenRequest
) -> rc_pb2.DeleteHostAuthenticationTokenResponse:
    """DeleteHostAuthenticationToken: the owner (USER) or a runner ADMIN."""
    with svc.store.write() as tx:
        record, _ = _load(tx, subject, request.id)
        if not tx.delete_host_token(record.id):
            raise NotFoundError(f"{_WHAT} {record.id} not found")
    return rc_pb2.DeleteHostAuthenticationTokenResponse()
