"""What a real runner does that no API call can: report its status, redeem its exchange token.

There is no runner-side API in the Runner management API, so tests drive a runner's life from
here: ``set_runner_status`` stores what a runner reports when it comes online (phase, version,
region, …, enum values by name), ``redeem_exchange_token`` uses a single-use exchange token as
a runner does on its first start (refused when unknown, used or expired on the server's clock),
``check_logs_token`` checks a logs token as the log service would (refused when expired).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from google.protobuf import json_format

from runnerkit.server import crypto
from runnerkit.server.domain.errors import InvalidArgumentError, NotFoundError
from runnerkit.server.domain.ids import parse_uuid
from runnerkit.server.service.runners import EXCHANGE, LOGS, runner_message, timestamp
from runnerkit.server.testapi.state import engine_of
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from collections.abc import Mapping

    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import RunnerRecord

# Set by the server, never by a status report.
_SERVER_FIELDS = frozenset({"updated_at", "updatedAt", "public_key", "publicKey"})


class TokenRejectedError(ValueError):
    """An exchange token that is unknown, already used or expired."""


def status_from(fields: Mapping[str, Any]) -> runner_pb2.RunnerStatus:
    """A ``RunnerStatus`` from field values (proto or JSON names, enums by name).

    Raises:
        InvalidArgumentError: An unknown field or a bad value (named in the message).
    """
    reserved = sorted(set(fields) & _SERVER_FIELDS)
    if reserved:
        raise InvalidArgumentError(reserved[0], "set by the server, not by the runner")
    status = runner_pb2.RunnerStatus()
    try:
        json_format.ParseDict(dict(fields), status)
    except json_format.ParseError as exc:
        raise InvalidArgumentError("status", str(exc)) from None
    return status


def set_runner_status(
    svc: Services, runner_id: str, fields: Mapping[str, Any]
) -> runner_pb2.Runner:
    """Replace a runner's reported status (``phase`` defaults to ACTIVE).

    Args:
        svc: The services (store and clock).
        runner_id: The runner.
        fields: ``RunnerStatus`` fields, e.g. ``{"phase": "RUNNER_PHASE_ACTIVE",
            "version": "1.2.3", "region": "eu-west-1"}``.

    Returns:
        The runner as GetRunner shows it now.

    Raises:
        InvalidArgumentError: A bad runner id or status field.
        NotFoundError: No such runner.
    """
    rid = parse_uuid(runner_id, "runner_id")
    status = status_from({"phase": "RUNNER_PHASE_ACTIVE", **fields})

    def change(current: RunnerRecord) -> RunnerRecord:
        now = max(svc.clock(), current.updated_at + 1)
        status.updated_at.CopyFrom(timestamp(now))
        return current._replace(status=status.SerializeToString(deterministic=True), updated_at=now)

    record = svc.store.update_runner(rid, change)
    if record is None:
        raise NotFoundError(f"runner {rid} not found")
    return runner_message(record)


def redeem_exchange_token(svc: Services, token: str) -> str:
    """Use a runner's single-use exchange token, as the runner does on its first start.

    Args:
        svc: The services (store and clock).
        token: The ``exchange_token`` of CreateRunner or CreateRunnerToken.

    Returns:
        The runner's id.

    Raises:
        TokenRejectedError: The token is unknown, already used, or expired (24 h after it was
            made, on the server's clock).
    """
    runner_id = svc.store.redeem_runner_token(crypto.hash_token(token), EXCHANGE, svc.clock())
    if runner_id is None:
        raise TokenRejectedError("exchange token rejected: unknown, already used or expired")
    return runner_id


def check_logs_token(svc: Services, token: str) -> str:
    """Check a runner logs token as the log service would (it is not used up).

    Args:
        svc: The services (store and clock).
        token: The ``access_token`` of CreateRunnerLogsToken.

    Returns:
        The id of the runner it is scoped to.

    Raises:
        TokenRejectedError: The token is unknown or expired (1 h after it was made, on the
            server's clock).
    """
    with engine_of(svc.store).connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT runner_id FROM runner_tokens "
                "WHERE token_hash = :hash AND purpose = :purpose AND expires_at > :now"
            ),
            {"hash": crypto.hash_token(token), "purpose": LOGS, "now": svc.clock()},
        ).first()
    if row is None:
        raise TokenRejectedError("logs token rejected: unknown or expired")
    return str(row[0])
