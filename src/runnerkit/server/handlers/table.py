"""The handler table: for each RPC of both services, its operation and how it runs.

One row per RPC, keyed by the generated protocol's method name: the service function
(``op(services, subject, request) -> response``, in ``server.service``) and its ``Runs``
kind (``handlers/execution.py``: a short read, a durable write, or a call to an SCM host).
``handlers/service.py`` turns each table into the generated service protocol; a test checks
that every protocol method has exactly one row.

ParseContextURL is offline parsing unless the request names a runner: only then may it call
the SCM (to check the repository and fill in pull request details), so only then does it run
on the SCM pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runnerkit.server.handlers.execution import Runs
from runnerkit.server.service import (
    configuration,
    environment_classes,
    host_tokens,
    policies,
    runners,
    scm,
    scm_integrations,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

READ, WRITE, SCM = Runs.READ, Runs.WRITE, Runs.SCM


@dataclass(frozen=True)
class Operation:
    """One row: the service function of an RPC and how it runs.

    Attributes:
        function: ``function(services, subject, request) -> response``.
        runs: Where it runs (``Runs``).
        unless: For an SCM operation that only sometimes calls the SCM: a predicate on the
            request that is true when it will not; then it runs as a ``READ``.
    """

    function: Callable[..., Any]
    runs: Runs
    unless: Callable[[Any], bool] | None = None


def _no_runner(request: Any) -> bool:  # noqa: ANN401 - any request message with runner_id
    return not request.runner_id


RUNNER_SERVICE: Mapping[str, Operation] = {
    "create_runner": Operation(runners.create_runner, WRITE),
    "get_runner": Operation(runners.get_runner, READ),
    "list_runners": Operation(runners.list_runners, READ),
    "update_runner": Operation(runners.update_runner, WRITE),
    "delete_runner": Operation(runners.delete_runner, WRITE),
    "create_runner_token": Operation(runners.create_runner_token, WRITE),
    "create_runner_logs_token": Operation(runners.create_runner_logs_token, WRITE),
    "parse_context_url": Operation(scm.parse_context_url_op, SCM, unless=_no_runner),
    "search_repositories": Operation(scm.search_repositories, SCM),
    "list_scm_organizations": Operation(scm.list_scm_organizations, SCM),
    "check_authentication_for_host": Operation(scm.check_authentication_for_host_op, READ),
    "check_repository_access": Operation(scm.check_repository_access, SCM),
    "list_runner_policies": Operation(policies.list_runner_policies, READ),
    "create_runner_policy": Operation(policies.create_runner_policy, WRITE),
    "update_runner_policy": Operation(policies.update_runner_policy, WRITE),
    "delete_runner_policy": Operation(policies.delete_runner_policy, WRITE),
}

RUNNER_CONFIGURATION_SERVICE: Mapping[str, Operation] = {
    "create_host_authentication_token": Operation(
        host_tokens.create_host_authentication_token, WRITE
    ),
    "get_host_authentication_token": Operation(host_tokens.get_host_authentication_token, READ),
    "list_host_authentication_tokens": Operation(host_tokens.list_host_authentication_tokens, READ),
    "update_host_authentication_token": Operation(
        host_tokens.update_host_authentication_token, WRITE
    ),
    "delete_host_authentication_token": Operation(
        host_tokens.delete_host_authentication_token, WRITE
    ),
    "get_runner_configuration_schema": Operation(
        configuration.get_runner_configuration_schema, READ
    ),
    "create_scm_integration": Operation(scm_integrations.create_scm_integration, WRITE),
    "get_scm_integration": Operation(scm_integrations.get_scm_integration, READ),
    "list_scm_integrations": Operation(scm_integrations.list_scm_integrations, READ),
    "update_scm_integration": Operation(scm_integrations.update_scm_integration, WRITE),
    "delete_scm_integration": Operation(scm_integrations.delete_scm_integration, WRITE),
    "create_environment_class": Operation(environment_classes.create_environment_class, WRITE),
    "get_environment_class": Operation(environment_classes.get_environment_class, READ),
    "list_environment_classes": Operation(environment_classes.list_environment_classes, READ),
    "update_environment_class": Operation(environment_classes.update_environment_class, WRITE),
    "validate_runner_configuration": Operation(configuration.validate_runner_configuration, READ),
}
