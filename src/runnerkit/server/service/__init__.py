"""The server's operations, one function per RPC: synchronous (``handlers/table.py``: where).

Each takes the ``Services`` bundle, the caller and the request message, checks access and the
rules (``runnerkit.server.domain``), talks to the store, and returns the response message or
raises a ``DomainError``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from runnerkit.server.crypto import MasterKey
    from runnerkit.server.pagination import PageTokens
    from runnerkit.server.scm import SCMRegistry
    from runnerkit.server.storage.base import Store

MICROS = 1_000_000


def now_micros() -> int:
    """The current time in microseconds since the Unix epoch (UTC)."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Services:
    """What the operations need: the store, the master key, page tokens, SCMs and a clock.

    ``scm`` picks the SCM adapters and owns their pooled HTTP client; whoever builds the
    services closes it (``scm.close()``) when the server stops.
    """

    store: Store
    master_key: MasterKey
    page_tokens: PageTokens
    scm: SCMRegistry
    clock: Callable[[], int] = field(default=now_micros)
