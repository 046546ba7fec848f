"""Resource commands of ``runnerkit``: thin click wrappers over :class:`runnerkit.Client`.

Groups: ``runners``, ``policies``, ``environment-classes``, ``scm-integrations``,
``host-tokens``, ``schema``, ``context-url``. See ``_common`` for options and exit codes.
"""

from __future__ import annotations

from runnerkit.cli.resources.configurations import (
    environment_classes,
    host_tokens,
    schema,
    scm_integrations,
)
from runnerkit.cli.resources.runners import context_url, policies, runners

COMMANDS = (
    runners,
    policies,
    environment_classes,
    scm_integrations,
    host_tokens,
    schema,
    context_url,
)

__all__ = [
    "COMMANDS",
    "context_url",
    "environment_classes",
    "host_tokens",
    "policies",
    "runners",
    "schema",
    "scm_integrations",
]
