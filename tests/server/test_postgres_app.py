"""The whole app on the PostgreSQL backend: the same RPC flows as on SQLite."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from connectrpc.code import Code

from runnerkit.server.app import create_app
from runnerkit.server.bootstrap import bootstrap_admin, build_services, create_subject
from runnerkit.server.crypto import MasterKey
from runnerkit.server.storage import open_store
from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from tests.server.harness import inproc_api

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.server.harness import Api

R = runner_pb2


@pytest.fixture
def pg_api(postgres_url: str, tmp_path: Path) -> Iterator[Api]:
    base = sa.make_url(postgres_url)
    name = f"rk_{uuid.uuid4().hex}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    store = open_store(base.set(database=name).render_as_string(hide_password=False))
    services = build_services(store, MasterKey(bytes(range(32))))
    try:
        token = bootstrap_admin(store)
        assert token is not None
        app = create_app(services)
        with inproc_api(app, token, tmp_path) as api:
            api.store = store  # type: ignore[attr-defined]
            yield api
    finally:
        services.scm.close()
        store.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}"'))
        admin.dispose()


def test_runner_flows_on_postgres(pg_api: Api):
    api = pg_api
    ids = [
        api(
            "create_runner",
            R.CreateRunnerRequest(name=f"runner{i}", provider=rc_pb2.RUNNER_PROVIDER_AWS_EC2),
        ).runner.runner_id
        for i in range(5)
    ]
    seen, token = list[str](), ""
    while True:
        page = api(
            "list_runners",
            R.ListRunnersRequest(
                pagination=pagination_pb2.PaginationRequest(page_size=2, token=token)
            ),
        )
        seen += [r.runner_id for r in page.runners]
        token = page.pagination.next_token
        if not token:
            break
    assert seen == ids
    config = R.UpdateRunnerRequest.RunnerConfiguration(update_window=R.UpdateWindow(start_hour=3))
    api(
        "update_runner",
        R.UpdateRunnerRequest(
            runner_id=ids[0], spec=R.UpdateRunnerRequest.Spec(configuration=config)
        ),
    )
    got = api("get_runner", R.GetRunnerRequest(runner_id=ids[0])).runner
    assert got.spec.configuration.update_window.end_hour == 5
    group = str(uuid.uuid4())
    api(
        "create_runner_policy",
        R.CreateRunnerPolicyRequest(runner_id=ids[0], group_id=group, role=R.RUNNER_ROLE_USER),
    )
    api.fails(
        "create_runner_policy",
        R.CreateRunnerPolicyRequest(runner_id=ids[0], group_id=group, role=R.RUNNER_ROLE_USER),
        Code.ALREADY_EXISTS,
    )
    _, member = create_subject(api.store, name="m", group_ids=[group])  # type: ignore[attr-defined]
    assert (
        api("get_runner", R.GetRunnerRequest(runner_id=ids[0]), member).runner.runner_id == ids[0]
    )
    api.fails("get_runner", R.GetRunnerRequest(runner_id=ids[1]), Code.PERMISSION_DENIED, member)
    api(
        "create_runner",
        R.CreateRunnerRequest(name="lc1", kind=rc_pb2.RUNNER_KIND_LOCAL_CONFIGURATION),
    )
    api.fails(
        "create_runner",
        R.CreateRunnerRequest(name="lc2", kind=rc_pb2.RUNNER_KIND_LOCAL_CONFIGURATION),
        Code.ALREADY_EXISTS,
    )
    api("delete_runner", R.DeleteRunnerRequest(runner_id=ids[0]))
    api.fails("get_runner", R.GetRunnerRequest(runner_id=ids[0]), Code.NOT_FOUND)
