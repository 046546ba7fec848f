"""The access log: one structured line per HTTP request, cheap on the request path.

A line holds ``key=value`` fields: ``method``, ``path`` (quoted when it has spaces, quotes or
control characters; cut at 200 characters), ``status``, ``code`` (the Connect error code, or
``-``) and ``ms`` (duration). Never headers, query strings or bodies: they may hold tokens.

Two sinks:

- :class:`AccessLog` (the default) hands each line to the ``runnerkit.server.access`` logger at
  INFO, and formats nothing when that logger is off. Fine for tests and embedding; a
  ``logging`` record with a formatter and a handler costs ~15 µs per request.
- :class:`StreamAccessLog` writes the same lines, prefixed the way ``runnerkit serve`` formats
  its log (``<asctime> INFO runnerkit.server.access: ``), straight to a stream, one write per
  batch (at most ``max_lines`` lines or ``flush_after_s`` seconds later, and on
  :meth:`~StreamAccessLog.flush`). A batch stays under ``PIPE_BUF`` (4 KiB), so that the
  batches of several worker processes sharing one pipe never interleave mid-line. ``serve``
  uses it when it configured logging itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TextIO

LOGGER_NAME = "runnerkit.server.access"
_MAX_PATH = 200
_MAX_BATCH_CHARS = 3500  # below PIPE_BUF (4096): one write(2) to a pipe is atomic
_logger = logging.getLogger(LOGGER_NAME)


def access_line(method: str, path: str, status: int, code: str, elapsed_s: float) -> str:
    """The fields of one request as a ``key=value`` line (without a newline)."""
    if len(path) > _MAX_PATH:
        path = path[:_MAX_PATH] + "..."
    if " " in path or '"' in path or not path.isprintable():
        path = json.dumps(path)
    return (
        f"method={method} path={path} status={status} code={code or '-'} ms={elapsed_s * 1000:.2f}"
    )


class AccessLog:
    """Access lines through ``logging`` (the ``runnerkit.server.access`` logger, INFO)."""

    def enabled(self) -> bool:
        """Whether a line would go anywhere (checked before anything is formatted)."""
        return _logger.isEnabledFor(logging.INFO)

    def write(self, line: str) -> None:
        """Log one line."""
        _logger.info(line)

    def flush(self) -> None:
        """Nothing is buffered here."""


class StreamAccessLog(AccessLog):
    """Access lines written straight to a stream in batches (see the module docstring).

    Args:
        stream: Where lines go (``sys.stderr`` for ``serve``).
        max_lines: Write as soon as this many lines wait.
        flush_after_s: Write lines at most this long after they were logged.
    """

    def __init__(self, stream: TextIO, max_lines: int = 64, flush_after_s: float = 0.2) -> None:
        self._stream = stream
        self._max = max_lines
        self._after = flush_after_s
        self._pending: list[str] = []
        self._chars = 0
        self._second = -1
        self._stamp = ""

    def write(self, line: str) -> None:
        """Queue one line; write the batch when it is full, else soon."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        millis = int((now - second) * 1000)
        text = f"{self._stamp},{millis:03d} INFO {LOGGER_NAME}: {line}\n"
        if self._chars + len(text) > _MAX_BATCH_CHARS:
            self.flush()
        self._pending.append(text)
        self._chars += len(text)
        if len(self._pending) >= self._max:
            self.flush()
        elif len(self._pending) == 1:
            try:
                asyncio.get_running_loop().call_later(self._after, self.flush)
            except RuntimeError:  # no event loop: write at once
                self.flush()

    def flush(self) -> None:
        """Write every waiting line."""
        if not self._pending:
            return
        text, self._pending, self._chars = "".join(self._pending), [], 0
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed or broken stream must not fail requests
            return
