"""``RunnerConfigurationServiceHandler``: the generated protocol on ``server.service``.

Its 16 methods come from ``handlers/table.py`` (``RUNNER_CONFIGURATION_SERVICE``), as in
``runner_service.py``; ``handlers/dispatch.py`` describes the error details a failed
configuration validation carries.
"""

from __future__ import annotations

from runnerkit.server.handlers.dispatch import TableHandler, detail
from runnerkit.server.handlers.table import RUNNER_CONFIGURATION_SERVICE
from runnerkit_proto.gitpod.v1 import runner_configuration_connect

__all__ = ["RunnerConfigurationServiceHandler", "detail"]


class RunnerConfigurationServiceHandler(
    TableHandler, runner_configuration_connect.RunnerConfigurationService
):
    """Serves all 16 RunnerConfigurationService RPCs."""

    TABLE = RUNNER_CONFIGURATION_SERVICE
