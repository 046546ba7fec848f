"""Resource commands of ``runnerkit``: thin click wrappers over :class:`runnerkit.Client`.

Groups: ``runners`` (with the SCM queries made through a runner), ``policies``,
``environment-classes``, ``scm-integrations``, ``host-tokens``, ``schema``, ``context-url``.
See ``_common`` for the global options and exit codes, ``_output`` for ``--output``.
"""

from __future__ import annotations

from runnerkit.cli.resources.configurations import schema
from runnerkit.cli.resources.environment_classes import environment_classes
from runnerkit.cli.resources.host_tokens import host_tokens
from runnerkit.cli.resources.policies import policies
from runnerkit.cli.resources.runners import runners
from runnerkit.cli.resources.scm import context_url
from runnerkit.cli.resources.scm_integrations import scm_integrations

__all__ = [
    "context_url",
    "environment_classes",
    "host_tokens",
    "policies",
    "runners",
    "schema",
    "scm_integrations",
]
