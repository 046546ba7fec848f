"""``RunnerServiceHandler``: the generated ``RunnerService`` protocol on ``server.service``.

Its 16 methods come from ``handlers/table.py`` (``RUNNER_SERVICE``): each takes the caller
from the auth interceptor and runs the operation as the table says (``handlers/execution.py``).
"""

from __future__ import annotations

from runnerkit.server.handlers.dispatch import TableHandler
from runnerkit.server.handlers.table import RUNNER_SERVICE
from runnerkit_proto.gitpod.v1 import runner_connect


class RunnerServiceHandler(TableHandler, runner_connect.RunnerService):
    """Serves all 16 RunnerService RPCs."""

    TABLE = RUNNER_SERVICE
