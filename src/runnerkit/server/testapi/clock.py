"""The test server's clock: real time plus an offset that tests move forward.

Every expiry the server checks reads ``Services.clock`` (exchange tokens after 24 h, logs
tokens after 1 h, host authentication tokens at their ``expires_at``), so moving this clock is
how a test sees a token expire without waiting.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime

from runnerkit.server.service import MICROS, now_micros


class TestClock:
    """Wall-clock time shifted by an offset that only grows (time never runs backwards)."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self) -> None:
        self._offset = 0
        self._lock = threading.Lock()

    def now_micros(self) -> int:
        """The server's current time in microseconds since the Unix epoch."""
        return now_micros() + self._offset

    def now(self) -> datetime:
        """The server's current time (aware, UTC)."""
        return datetime.fromtimestamp(self.now_micros() / MICROS, UTC)

    @property
    def offset_seconds(self) -> float:
        """How far ahead of the wall clock the server is, in seconds."""
        return self._offset / MICROS

    def advance(
        self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0
    ) -> datetime:
        """Move the server's time forward.

        Args:
            seconds: Seconds to add.
            minutes: Minutes to add.
            hours: Hours to add.

        Returns:
            The server's new current time.

        Raises:
            ValueError: A negative or non-finite amount (time never goes back).
        """
        total = seconds + 60 * minutes + 3600 * hours
        if not math.isfinite(total) or total < 0:
            msg = f"advance: expected a finite amount of time >= 0, got {total!r} seconds"
            raise ValueError(msg)
        with self._lock:
            self._offset += round(total * MICROS)
        return self.now()

    def reset(self) -> None:
        """Back to the wall clock."""
        with self._lock:
            self._offset = 0
