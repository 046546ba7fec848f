"""Retries where they are safe (AIP-194), as a unary interceptor for sync and async clients.

A failed attempt is retried only when **all** of these hold:

- its code is ``unavailable`` (connectrpc also reports connection failures that way);
- the method is ``NO_SIDE_EFFECTS`` or ``IDEMPOTENT`` (``MethodInfo.idempotency_level``, from
  the schema), **or** the request provably never left the client (the TCP/TLS connection
  could not be established);
- the response did not say ``x-should-retry: false``;
- attempts remain (``max_retries``) and the wait fits in the call's deadline.

The wait doubles from ``initial_delay`` up to ``max_delay``, shortened by up to ``jitter``
(a fraction), unless the server sent ``Retry-After`` (seconds or an HTTP date) of at most
``max_retry_after`` seconds, which is then used as is. ``sleep``, ``async_sleep`` and
``random`` are injectable for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import random as _random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from connectrpc._response_metadata import _current_response
from connectrpc.client import ResponseMetadata
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.method import IdempotencyLevel
from pyqwest import ConnectTimeout

from runnerkit.client.errors import remember_response

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from connectrpc.request import Headers, RequestContext

__all__ = ["RetryInterceptor", "RetryPolicy"]

REQ = TypeVar("REQ")
RES = TypeVar("RES")

_SAFE_LEVELS = frozenset({IdempotencyLevel.NO_SIDE_EFFECTS, IdempotencyLevel.IDEMPOTENT})


def _request_not_sent(error: ConnectError) -> bool:
    """True when the transport failed before a connection existed (nothing was sent)."""
    cause = error.__cause__
    if isinstance(cause, ConnectTimeout):
        return True
    # pyqwest (hyper-util) reports connection-establishment failures as
    # ``ConnectionError("... client error (Connect): tcp connect error ...")``.
    return isinstance(cause, ConnectionError) and "client error (Connect)" in str(cause)


def _parse_retry_after(headers: Headers) -> float | None:
    if (ms := headers.get("retry-after-ms")) is not None:
        with contextlib.suppress(ValueError):
            return float(ms) / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # noqa: PLC0415 - rarely needed, slow import

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """When and how long to wait before retrying a failed call.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        initial_delay: Seconds before the first retry (before jitter).
        max_delay: Upper bound of the exponential backoff, in seconds.
        jitter: Fraction by which a backoff delay is randomly shortened (0 to 1).
        max_retry_after: ``Retry-After`` values above this (seconds) are ignored.
        sleep: Blocking sleep used by sync clients.
        async_sleep: Sleep used by async clients.
        random: Returns a float in [0, 1) for the jitter.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    random: Callable[[], float] = field(default=_random.random, repr=False)

    def backoff(self, retries_taken: int, retry_after: float | None = None) -> float:
        """Seconds to wait before the next attempt.

        Args:
            retries_taken: How many retries happened already (0 before the first retry).
            retry_after: The server's ``Retry-After`` in seconds, if it sent one.

        Returns:
            The delay in seconds.
        """
        if retry_after is not None and 0 <= retry_after <= self.max_retry_after:
            return retry_after
        delay = min(self.initial_delay * (2.0**retries_taken), self.max_delay)
        return delay * (1.0 - self.jitter * self.random())

    def next_delay(
        self,
        error: ConnectError,
        ctx: RequestContext[Any, Any],
        retries_taken: int,
        response_headers: Headers,
    ) -> float | None:
        """Decide whether to retry ``error``, and after how long.

        Args:
            error: The error of the attempt that just failed.
            ctx: The call's request context (method info and deadline).
            retries_taken: Retries done so far.
            response_headers: Headers of the failed attempt's response (empty if none).

        Returns:
            Seconds to wait before retrying, or None to give up and raise ``error``.
        """
        if retries_taken >= self.max_retries or error.code is not Code.UNAVAILABLE:
            return None
        if response_headers.get("x-should-retry", "").lower() == "false":
            return None
        safe = ctx.method.idempotency_level in _SAFE_LEVELS
        if not safe and not _request_not_sent(error):
            return None
        delay = self.backoff(retries_taken, _parse_retry_after(response_headers))
        remaining_ms = ctx.timeout_ms
        if remaining_ms is not None and delay * 1000.0 >= remaining_ms:
            return None
        return delay


@contextlib.contextmanager
def _capture_response() -> Iterator[ResponseMetadata]:
    """Capture one attempt's response metadata, passing it on to a caller's own capture."""
    outer = _current_response.get(None)
    with ResponseMetadata() as meta:
        yield meta
    if outer is not None:
        # Mirror into the caller's own ResponseMetadata (private fields, connectrpc 0.13).
        outer._http_status = meta._http_status
        outer._headers = meta._headers
        outer._trailers = meta._trailers


class RetryInterceptor:
    """Unary interceptor applying a :class:`RetryPolicy`; works for sync and async clients."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()

    def __repr__(self) -> str:
        return f"RetryInterceptor({self.policy!r})"

    def intercept_unary_sync(
        self,
        call_next: Callable[[REQ, RequestContext[Any, Any]], RES],
        request: REQ,
        ctx: RequestContext[Any, Any],
        /,
    ) -> RES:
        """Call ``call_next``, retrying per the policy.

        Args:
            call_next: The next interceptor or the transport.
            request: The request message.
            ctx: The request context.

        Returns:
            The response message.
        """
        retries = 0
        while True:
            with _capture_response() as meta:
                try:
                    return call_next(request, ctx)
                except ConnectError as error:
                    delay = self.policy.next_delay(error, ctx, retries, meta.headers)
                    if delay is None:
                        remember_response(error, meta.http_status, meta.headers)
                        raise
            retries += 1
            self.policy.sleep(delay)

    async def intercept_unary(
        self,
        call_next: Callable[[REQ, RequestContext[Any, Any]], Awaitable[RES]],
        request: REQ,
        ctx: RequestContext[Any, Any],
        /,
    ) -> RES:
        """Await ``call_next``, retrying per the policy.

        Args:
            call_next: The next interceptor or the transport.
            request: The request message.
            ctx: The request context.

        Returns:
            The response message.
        """
        retries = 0
        while True:
            with _capture_response() as meta:
                try:
                    return await call_next(request, ctx)
                except ConnectError as error:
                    delay = self.policy.next_delay(error, ctx, retries, meta.headers)
                    if delay is None:
                        remember_response(error, meta.http_status, meta.headers)
                        raise
            retries += 1
            await self.policy.async_sleep(delay)
