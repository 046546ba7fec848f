"""Environment class operations: create, get, list, update (no delete: classes go with runners).

Create and Update validate with ``domain.validation.validate_environment_class`` — the
validator ValidateRunnerConfiguration answers with — and reject an invalid class with
``ConfigurationInvalidError``. Runner ADMIN manages classes; runner USER reads them.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from runnerkit.server.domain.access import Access
from runnerkit.server.domain.config_schema import schema_for
from runnerkit.server.domain.errors import NotFoundError
from runnerkit.server.domain.ids import new_id, parse_uuid
from runnerkit.server.domain.runners import check_enum
from runnerkit.server.domain.validation import validate_environment_class
from runnerkit.server.service.configuration import (
    check_configuration_size,
    keyset_start,
    load_owned,
    next_token,
    reject_invalid_environment_class,
)
from runnerkit.server.service.runners import runner_in
from runnerkit.server.storage.config_records import EnvironmentClassQuery, EnvironmentClassRecord
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2

if TYPE_CHECKING:
    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import RunnerRecord, SubjectRecord
    from runnerkit.server.storage.transaction import Transaction

_WHAT = "environment class"
_LIST = "ListEnvironmentClasses"


def environment_class_message(record: EnvironmentClassRecord) -> rc_pb2.EnvironmentClass:
    """The API's view of a stored environment class."""
    return rc_pb2.EnvironmentClass(
        id=record.id,
        runner_id=record.runner_id,
        display_name=record.display_name,
        description=record.description,
        configuration=[rc_pb2.FieldValue(key=k, value=v) for k, v in record.configuration],
        enabled=record.enabled,
    )


def _load(
    tx: Transaction, subject: SubjectRecord, class_id: str, need: Access
) -> tuple[EnvironmentClassRecord, RunnerRecord]:
    record, runner, _ = load_owned(
        tx,
        subject,
        class_id,
        tx.get_environment_class,
        field="environment_class_id",
        need=need,
        what=_WHAT,
    )
    return record, runner


def create_environment_class(
    svc: Services, subject: SubjectRecord, request: rc_pb2.CreateEnvironmentClassRequest
) -> rc_pb2.CreateEnvironmentClassResponse:
    """CreateEnvironmentClass: needs ADMIN; validated against the runner's schema; enabled."""
    with svc.store.write() as tx:  # permission check and insert in one transaction
        runner = runner_in(tx, subject, request.runner_id, Access.ADMIN)
        check_configuration_size(request.configuration, "configuration")
        reject_invalid_environment_class(
            validate_environment_class(
                schema_for(runner.provider),
                display_name=request.display_name,
                description=request.description,
                configuration=request.configuration,
            )
        )
        now = svc.clock()
        record = EnvironmentClassRecord(
            id=new_id(),
            runner_id=runner.id,
            display_name=request.display_name,
            description=request.description,
            configuration=tuple((e.key, e.value) for e in request.configuration),
            enabled=True,
            created_at=now,
            updated_at=now,
        )
        tx.insert_environment_class(record)
    return rc_pb2.CreateEnvironmentClassResponse(id=record.id)


def get_environment_class(
    svc: Services, subject: SubjectRecord, request: rc_pb2.GetEnvironmentClassRequest
) -> rc_pb2.GetEnvironmentClassResponse:
    """GetEnvironmentClass: needs USER on the class's runner."""
    with svc.store.read() as tx:
        record, _ = _load(tx, subject, request.environment_class_id, Access.USER)
    return rc_pb2.GetEnvironmentClassResponse(environment_class=environment_class_message(record))


def list_environment_classes(
    svc: Services, subject: SubjectRecord, request: rc_pb2.ListEnvironmentClassesRequest
) -> rc_pb2.ListEnvironmentClassesResponse:
    """ListEnvironmentClasses: classes of runners the caller may use, filtered, keyset-paged.

    ``can_create_environments`` true keeps the enabled classes of runners the caller may use;
    since only such runners' classes are listed at all, false keeps the disabled ones.
    """
    size, fp, after = keyset_start(svc, subject, request, _LIST)
    flt = request.filter
    allowed = {True, False}
    if flt.HasField("enabled"):
        allowed &= {flt.enabled}
    if flt.HasField("can_create_environments"):
        allowed &= {flt.can_create_environments}
    query = EnvironmentClassQuery(
        viewer=None if subject.org_admin else subject,
        runner_ids=sorted({parse_uuid(r, "filter.runner_ids") for r in flt.runner_ids}),
        runner_kinds=sorted(
            {
                check_enum(rc_pb2.RunnerKind, k, "filter.runner_kinds", allow_unspecified=False)
                for k in flt.runner_kinds
            }
        ),
        runner_providers=sorted(
            {
                check_enum(
                    rc_pb2.RunnerProvider, p, "filter.runner_providers", allow_unspecified=False
                )
                for p in flt.runner_providers
            }
        ),
        enabled=next(iter(allowed)) if len(allowed) == 1 else None,
    )
    rows = svc.store.list_environment_classes(query, after, size + 1) if allowed else []
    response = rc_pb2.ListEnvironmentClassesResponse(
        environment_classes=[environment_class_message(r) for r in rows[:size]]
    )
    response.pagination.next_token = next_token(svc, _LIST, fp, rows, size)
    return response


def update_environment_class(
    svc: Services, subject: SubjectRecord, request: rc_pb2.UpdateEnvironmentClassRequest
) -> rc_pb2.UpdateEnvironmentClassResponse:
    """UpdateEnvironmentClass: needs ADMIN; by presence; the result is validated again."""

    def change(current: EnvironmentClassRecord) -> EnvironmentClassRecord | None:
        updated = dataclasses.replace(
            current,
            display_name=(
                request.display_name if request.HasField("display_name") else current.display_name
            ),
            description=(
                request.description if request.HasField("description") else current.description
            ),
            enabled=request.enabled if request.HasField("enabled") else current.enabled,
        )
        if updated == current:
            return None
        reject_invalid_environment_class(
            validate_environment_class(
                schema_for(runner.provider),
                display_name=updated.display_name,
                description=updated.description,
                configuration=[rc_pb2.FieldValue(key=k, value=v) for k, v in updated.configuration],
            )
        )
        return dataclasses.replace(updated, updated_at=max(svc.clock(), current.updated_at + 1))

    with svc.store.write() as tx:  # permission check and change in one transaction
        record, runner = _load(tx, subject, request.environment_class_id, Access.ADMIN)
        if tx.update_environment_class(record.id, change) is None:
            raise NotFoundError(f"{_WHAT} {record.id} not found")
    return rc_pb2.UpdateEnvironmentClassResponse()
