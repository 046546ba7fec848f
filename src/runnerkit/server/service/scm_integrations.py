"""SCM integration operations: create, get, list, update, delete.

Create and Update validate with ``domain.validation.validate_scm_integration`` (the validator
of ValidateRunnerConfiguration) and reject an invalid result with
``ConfigurationInvalidError``. The OAuth client secret is sealed to the runner's public key
before it is stored and is only ever returned as ``oauth.encrypted_client_secret``. Hosts are
stored normalised, so the one-integration-per-(runner, host) rule compares normalised hosts.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from runnerkit.server import crypto
from runnerkit.server.domain.access import Access
from runnerkit.server.domain.config_schema import schema_for
from runnerkit.server.domain.errors import NotFoundError
from runnerkit.server.domain.ids import new_id, parse_uuid
from runnerkit.server.domain.runners import check_text
from runnerkit.server.domain.scm_catalog import normalize_host
from runnerkit.server.domain.validation import validate_scm_integration
from runnerkit.server.service.configuration import (
    keyset_start,
    load_owned,
    next_token,
    reject_invalid_scm_integration,
)
from runnerkit.server.service.runners import runner_in
from runnerkit.server.storage.config_records import SCMIntegrationQuery, SCMIntegrationRecord
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2

if TYPE_CHECKING:
    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import RunnerRecord, SubjectRecord
    from runnerkit.server.storage.config_records import SCMChange
    from runnerkit.server.storage.transaction import Transaction

MAX_SECRET = 4096
_WHAT = "SCM integration"
_LIST = "ListSCMIntegrations"
OAUTH = rc_pb2.HOST_AUTHENTICATION_TOKEN_SOURCE_OAUTH
PAT = rc_pb2.HOST_AUTHENTICATION_TOKEN_SOURCE_PAT


def scm_integration_message(record: SCMIntegrationRecord) -> rc_pb2.SCMIntegration:
    """The API's view of a stored integration (the OAuth secret only sealed)."""
    message = rc_pb2.SCMIntegration(
        id=record.id,
        runner_id=record.runner_id,
        scm_id=record.scm_id,
        host=record.host,
        pat=record.pat,
    )
    if record.oauth_client_id:
        message.oauth.client_id = record.oauth_client_id
        message.oauth.encrypted_client_secret = record.oauth_client_secret_sealed
        message.oauth.issuer_url = record.issuer_url or ""
    if record.virtual_directory:
        message.virtual_directory = record.virtual_directory
    return message


def _validate(runner: RunnerRecord, record: SCMIntegrationRecord) -> None:
    reject_invalid_scm_integration(
        validate_scm_integration(
            schema_for(runner.provider),
            scm_id=record.scm_id,
            host=record.host,
            oauth_client_id=record.oauth_client_id,
            oauth_client_secret_set=bool(record.oauth_client_secret_sealed),
            pat=record.pat,
            issuer_url=record.issuer_url,
            virtual_directory=record.virtual_directory,
        )
    )


def _seal(runner: RunnerRecord, secret: str, field: str) -> bytes:
    check_text(secret, field, MAX_SECRET)
    return crypto.seal(runner.public_key, secret.encode()) if secret else b""


def _load(
    tx: Transaction, subject: SubjectRecord, integration_id: str, need: Access
) -> tuple[SCMIntegrationRecord, RunnerRecord]:
    record, runner, _ = load_owned(
        tx,
        subject,
        integration_id,
        tx.get_scm_integration,
        field="id",
        need=need,
        what=_WHAT,
    )
    return record, runner


def create_scm_integration(
    svc: Services, subject: SubjectRecord, request: rc_pb2.CreateSCMIntegrationRequest
) -> rc_pb2.CreateSCMIntegrationResponse:
    """CreateSCMIntegration: needs ADMIN; validated; one per (runner, host)."""
    with svc.store.write() as tx:  # permission check and insert in one transaction
        runner = runner_in(tx, subject, request.runner_id, Access.ADMIN)
        secret = request.oauth_plaintext_client_secret
        # Validate what was sent (the host as given), then store the normalised host.
        reject_invalid_scm_integration(
            validate_scm_integration(
                schema_for(runner.provider),
                scm_id=request.scm_id,
                host=request.host,
                oauth_client_id=request.oauth_client_id,
                oauth_client_secret_set=bool(secret),
                pat=request.pat,
                issuer_url=request.issuer_url,
                virtual_directory=request.virtual_directory,
            )
        )
        now = svc.clock()
        record = SCMIntegrationRecord(
            id=new_id(),
            runner_id=runner.id,
            scm_id=request.scm_id,
            host=normalize_host(request.host),
            oauth_client_id=request.oauth_client_id or None,
            oauth_client_secret_sealed=_seal(runner, secret, "oauth_plaintext_client_secret"),
            issuer_url=request.issuer_url or None,
            pat=request.pat,
            virtual_directory=request.virtual_directory or None,
            created_at=now,
            updated_at=now,
        )
        tx.insert_scm_integration(record)
    return rc_pb2.CreateSCMIntegrationResponse(id=record.id)


def get_scm_integration(
    svc: Services, subject: SubjectRecord, request: rc_pb2.GetSCMIntegrationRequest
) -> rc_pb2.GetSCMIntegrationResponse:
    """GetSCMIntegration: needs USER on the integration's runner."""
    with svc.store.read() as tx:
        record, _ = _load(tx, subject, request.id, Access.USER)
    return rc_pb2.GetSCMIntegrationResponse(integration=scm_integration_message(record))


def list_scm_integrations(
    svc: Services, subject: SubjectRecord, request: rc_pb2.ListSCMIntegrationsRequest
) -> rc_pb2.ListSCMIntegrationsResponse:
    """ListSCMIntegrations: integrations of runners the caller may use, keyset-paged."""
    size, fp, after = keyset_start(svc, subject, request, _LIST)
    query = SCMIntegrationQuery(
        viewer=None if subject.org_admin else subject,
        runner_ids=sorted({parse_uuid(r, "filter.runner_ids") for r in request.filter.runner_ids}),
    )
    rows = svc.store.list_scm_integrations(query, after, size + 1)
    response = rc_pb2.ListSCMIntegrationsResponse(
        integrations=[scm_integration_message(r) for r in rows[:size]]
    )
    response.pagination.next_token = next_token(svc, _LIST, fp, rows, size)
    return response


def update_scm_integration(
    svc: Services, subject: SubjectRecord, request: rc_pb2.UpdateSCMIntegrationRequest
) -> rc_pb2.UpdateSCMIntegrationResponse:
    """UpdateSCMIntegration: needs ADMIN; by presence; the result is validated again.

    An empty ``oauth_client_id`` removes the OAuth configuration (client id, secret and issuer
    URL, whatever else the request sets) and deletes the runner+host's OAUTH-sourced host
    tokens; ``pat = false`` deletes the PAT-sourced ones — in the same transaction.
    """

    def change(current: SCMIntegrationRecord) -> SCMChange | None:
        updated, sources = current, []
        if request.HasField("oauth_plaintext_client_secret"):
            new_secret = _seal(
                runner, request.oauth_plaintext_client_secret, "oauth_plaintext_client_secret"
            )
            updated = dataclasses.replace(updated, oauth_client_secret_sealed=new_secret)
        if request.HasField("issuer_url"):
            updated = dataclasses.replace(updated, issuer_url=request.issuer_url or None)
        if request.HasField("virtual_directory"):
            updated = dataclasses.replace(
                updated, virtual_directory=request.virtual_directory or None
            )
        if request.HasField("oauth_client_id"):
            if request.oauth_client_id:
                updated = dataclasses.replace(updated, oauth_client_id=request.oauth_client_id)
            else:
                updated = dataclasses.replace(
                    updated, oauth_client_id=None, oauth_client_secret_sealed=b"", issuer_url=None
                )
                sources.append(OAUTH)
        if request.HasField("pat"):
            updated = dataclasses.replace(updated, pat=request.pat)
            if not request.pat:
                sources.append(PAT)
        if updated == current and not sources:
            return None
        _validate(runner, updated)
        if updated != current:
            updated = dataclasses.replace(
                updated, updated_at=max(svc.clock(), current.updated_at + 1)
            )
        return updated, sources

    with svc.store.write() as tx:  # permission check and change in one transaction
        record, runner = _load(tx, subject, request.id, Access.ADMIN)
        if tx.update_scm_integration(record.id, change) is None:
            raise NotFoundError(f"{_WHAT} {record.id} not found")
    return rc_pb2.UpdateSCMIntegrationResponse()


def delete_scm_integration(
    svc: Services, subject: SubjectRecord, request: rc_pb2.DeleteSCMIntegrationRequest
) -> rc_pb2.DeleteSCMIntegrationResponse:
    """DeleteSCMIntegration: needs ADMIN; also deletes the runner+host's OAUTH and PAT tokens."""
    with svc.store.write() as tx:
        record, _ = _load(tx, subject, request.id, Access.ADMIN)
        if not tx.delete_scm_integration(record.id, [OAUTH, PAT]):
            raise NotFoundError(f"{_WHAT} {record.id} not found")
    return rc_pb2.DeleteSCMIntegrationResponse()
