"""Concurrent writers on one SQLite file: every call succeeds, nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import pyqwest
from pyqwest.testing import ASGITransport

from runnerkit.server.storage import Store, open_store
from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_connect, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from tests.support.server import app_on_fresh_store

if TYPE_CHECKING:
    from pathlib import Path

R = runner_pb2


def test_sql_store_implements_the_store_protocol(tmp_path: Path) -> None:
    store: Store = open_store(f"sqlite:///{tmp_path / 'p.db'}")  # checked by mypy
    store.close()


def test_concurrent_creates_updates_and_policies(tmp_path: Path) -> None:
    with app_on_fresh_store(tmp_path) as (app, token):
        headers = {"authorization": f"Bearer {token}"}

        async def scenario() -> None:
            client = runner_connect.RunnerServiceClient(
                "http://runnerkit.test", http_client=pyqwest.Client(ASGITransport(app))
            )
            try:
                created = await asyncio.gather(
                    *(
                        client.create_runner(
                            R.CreateRunnerRequest(
                                name=f"runner{i}", provider=rc_pb2.RUNNER_PROVIDER_GCP
                            ),
                            headers=headers,
                        )
                        for i in range(30)
                    )
                )
                ids = [c.runner.runner_id for c in created]
                target = ids[0]
                groups = [str(uuid.uuid4()) for _ in range(20)]
                await asyncio.gather(
                    *(
                        client.update_runner(
                            R.UpdateRunnerRequest(runner_id=rid, name=f"renamed-{rid}"),
                            headers=headers,
                        )
                        for rid in ids
                    ),
                    *(
                        client.create_runner_policy(
                            R.CreateRunnerPolicyRequest(
                                runner_id=target, group_id=g, role=R.RUNNER_ROLE_USER
                            ),
                            headers=headers,
                        )
                        for g in groups
                    ),
                )
                listed = await client.list_runners(
                    R.ListRunnersRequest(
                        pagination=pagination_pb2.PaginationRequest(page_size=100)
                    ),
                    headers=headers,
                )
                assert sorted(r.runner_id for r in listed.runners) == sorted(ids)
                assert all(r.name == f"renamed-{r.runner_id}" for r in listed.runners)
                policies = await client.list_runner_policies(
                    R.ListRunnerPoliciesRequest(
                        runner_id=target, pagination=pagination_pb2.PaginationRequest(page_size=100)
                    ),
                    headers=headers,
                )
                assert sorted(p.group_id for p in policies.policies) == sorted(groups)
            finally:
                await client.close()

        asyncio.run(scenario())
