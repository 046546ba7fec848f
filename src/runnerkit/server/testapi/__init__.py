"""Server-side hooks of the testing kit: clock, faults, request journal, state, runner status.

Off unless a test server turns them on (``runnerkit.testing.LocalRunnerAPI`` or
``runnerkit serve --test-api``); see ``hooks.TestHooks`` and docs/testing.md.
"""

from __future__ import annotations

from runnerkit.server.testapi.clock import TestClock
from runnerkit.server.testapi.faults import Fault, Faults
from runnerkit.server.testapi.hooks import TestHooks
from runnerkit.server.testapi.journal import Journal, JournalEntry
from runnerkit.server.testapi.runners import (
    TokenRejectedError,
    check_logs_token,
    redeem_exchange_token,
    set_runner_status,
)
from runnerkit.server.testapi.state import SnapshotError, StoreState

__all__ = [
    "Fault",
    "Faults",
    "Journal",
    "JournalEntry",
    "SnapshotError",
    "StoreState",
    "TestClock",
    "TestHooks",
    "TokenRejectedError",
    "check_logs_token",
    "redeem_exchange_token",
    "set_runner_status",
]
