"""Each RPC runs in one transaction: permission check, reads and write together.

Counted on SQLite, where every statement the store runs passes the driver's trace callback:
a transaction is an explicit ``BEGIN`` … ``COMMIT``, or one statement outside of one.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from google.protobuf import timestamp_pb2

from runnerkit.server import bootstrap
from runnerkit.server.service import host_tokens, policies, runners, scm
from runnerkit.server.storage import SubjectRecord
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from google.protobuf.message import Message

    from runnerkit.server.service import Services

ADMIN_ROLE, USER_ROLE = runner_pb2.RUNNER_ROLE_ADMIN, runner_pb2.RUNNER_ROLE_USER


class Transactions:
    """Counts the transactions on every connection the store opens from now on."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        self._open: dict[int, bool] = {}
        sa.event.listen(engine.pool, "connect", self._hook)
        engine.dispose()

    def _hook(self, dbapi: object, _record: object) -> None:
        key = id(dbapi)
        self._open[key] = False

        def trace(sql: str) -> None:
            statement = sql.strip().upper()
            if statement.startswith("PRAGMA"):
                return
            if statement.startswith("BEGIN"):
                self._open[key] = True
                self.count += 1
            elif statement.startswith(("COMMIT", "ROLLBACK")):
                self._open[key] = False
            elif not self._open[key]:
                self.count += 1

        dbapi.set_trace_callback(trace)  # type: ignore[attr-defined]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Services, Transactions, SubjectRecord, str]]:
    store, key = bootstrap.open_sqlite(tmp_path / "store.db", {})
    transactions = Transactions(store.engine)
    svc = bootstrap.build_services(store, key)
    admin = SubjectRecord(id=str(uuid.uuid4()), principal=2, name="admin", org_admin=True)
    group = str(uuid.uuid4())
    user = SubjectRecord(
        id=str(uuid.uuid4()), principal=2, name="user", group_ids=frozenset({group})
    )
    store.create_subject(admin, ["a" * 64], 1)
    store.create_subject(user, ["b" * 64], 1)
    created = runners.create_runner(
        svc,
        admin,
        runner_pb2.CreateRunnerRequest(name="r", provider=rc_pb2.RUNNER_PROVIDER_AWS_EC2),
    )
    runner_id = created.runner.runner_id
    policies.create_runner_policy(
        svc,
        admin,
        runner_pb2.CreateRunnerPolicyRequest(runner_id=runner_id, group_id=group, role=ADMIN_ROLE),
    )
    expired = rc_pb2.CreateHostAuthenticationTokenRequest(
        runner_id=runner_id,
        host="github.com",
        token="t",
        expires_at=timestamp_pb2.Timestamp(seconds=1),
    )
    host_tokens.create_host_authentication_token(svc, user, expired)
    try:
        yield svc, transactions, user, runner_id
    finally:
        svc.scm.close()
        store.close()


CALLS: dict[str, Callable[[Services, SubjectRecord, str], Message]] = {
    "GetRunner": lambda svc, who, rid: runners.get_runner(
        svc, who, runner_pb2.GetRunnerRequest(runner_id=rid)
    ),
    "UpdateRunner": lambda svc, who, rid: runners.update_runner(
        svc, who, runner_pb2.UpdateRunnerRequest(runner_id=rid, name="renamed")
    ),
    "DeleteRunner": lambda svc, who, rid: runners.delete_runner(
        svc, who, runner_pb2.DeleteRunnerRequest(runner_id=rid)
    ),
    "CreateRunnerToken": lambda svc, who, rid: runners.create_runner_token(
        svc, who, runner_pb2.CreateRunnerTokenRequest(runner_id=rid)
    ),
    "ListRunnerPolicies": lambda svc, who, rid: policies.list_runner_policies(
        svc, who, runner_pb2.ListRunnerPoliciesRequest(runner_id=rid)
    ),
    "CreateRunnerPolicy": lambda svc, who, rid: policies.create_runner_policy(
        svc,
        who,
        runner_pb2.CreateRunnerPolicyRequest(
            runner_id=rid, group_id=str(uuid.uuid4()), role=USER_ROLE
        ),
    ),
    "ParseContextURL": lambda svc, who, rid: scm.parse_context_url_op(
        svc,
        who,
        runner_pb2.ParseContextURLRequest(runner_id=rid, context_url="https://github.com/a/b"),
    ),
    "CheckAuthenticationForHost": lambda svc, who, rid: scm.check_authentication_for_host_op(
        svc, who, runner_pb2.CheckAuthenticationForHostRequest(runner_id=rid, host="github.com")
    ),
}


@pytest.mark.parametrize("rpc", sorted(CALLS))
def test_an_rpc_is_one_transaction(
    world: tuple[Services, Transactions, SubjectRecord, str], rpc: str
):
    svc, transactions, user, runner_id = world
    transactions.count = 0
    CALLS[rpc](svc, user, runner_id)
    assert transactions.count == 1


def test_a_denied_write_changes_nothing_and_is_one_transaction(
    world: tuple[Services, Transactions, SubjectRecord, str],
):
    svc, transactions, _, runner_id = world
    stranger = SubjectRecord(id=str(uuid.uuid4()), principal=2, name="stranger")
    transactions.count = 0
    with pytest.raises(Exception, match="permission denied"):
        CALLS["UpdateRunner"](svc, stranger, runner_id)
    assert transactions.count == 1
    runner = svc.store.get_runner(runner_id)
    assert runner is not None
    assert runner.name == "r"
