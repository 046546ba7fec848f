"""Anything unexpected becomes ``internal`` with a generic message and a server-side log line."""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING

from connectrpc.code import Code

from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from runnerkit_proto.gitpod.v1 import runner_pb2
from tests.support.server import db_path

if TYPE_CHECKING:
    import pytest

    from tests.server.harness import Api


def test_corrupt_row_is_internal_error_with_log(inproc: Api, caplog: pytest.LogCaptureFixture):
    created = inproc(
        "create_runner",
        runner_pb2.CreateRunnerRequest(name="runner", provider=rc_pb2.RUNNER_PROVIDER_GCP),
    )
    rid = created.runner.runner_id
    with sqlite3.connect(db_path(inproc.directory)) as conn:
        conn.execute("UPDATE runners SET spec = ? WHERE id = ?", (b"\xff\xff\xff", rid))
    with caplog.at_level(logging.ERROR, logger="runnerkit.server"):
        message = inproc.fails(
            "get_runner", runner_pb2.GetRunnerRequest(runner_id=rid), Code.INTERNAL
        )
    assert message == "internal error"
    assert any("unexpected error in GetRunner" in r.getMessage() for r in caplog.records)
