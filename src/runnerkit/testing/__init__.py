"""Test your code against a faithful local Runner API: ``LocalRunnerAPI`` and a pytest plugin.

``LocalRunnerAPI`` runs the real server in process on a free loopback port, with reset,
snapshots, injected faults, a request journal, a controllable clock, seed data and offline SCM
fakes. The pytest plugin (registered through the ``pytest11`` entry point) gives the fixtures
``runner_api`` and ``runner_api_client``. See docs/testing.md.

Names are loaded lazily: ``runnerkit.testing.seed`` and ``runnerkit.testing.fake_scm`` do not
load the client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runnerkit.server.testapi import Fault, JournalEntry, TokenRejectedError
    from runnerkit.testing.local import LocalRunnerAPI
    from runnerkit.testing.seed import SeedError

__all__ = [
    "Fault",
    "JournalEntry",
    "LocalRunnerAPI",
    "SeedError",
    "TokenRejectedError",
]

_HOMES = {
    "Fault": "runnerkit.server.testapi",
    "JournalEntry": "runnerkit.server.testapi",
    "TokenRejectedError": "runnerkit.server.testapi",
    "LocalRunnerAPI": "runnerkit.testing.local",
    "SeedError": "runnerkit.testing.seed",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'runnerkit.testing' has no attribute {name!r}")
    value: object = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
