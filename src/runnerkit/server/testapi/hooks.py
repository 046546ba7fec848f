"""``TestHooks``: the clock, faults, journal and state controls of one test server.

Built from the server's ``Services`` when the test API is on (``LocalRunnerAPI``, or
``runnerkit serve --test-api``); ``create_app(services, test_hooks=hooks)`` then adds the
journal and fault interceptors, serves the hooks' clock to the handlers, and — with
``http_routes`` — answers ``/_runnerkit/*`` (``routes.py``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from runnerkit.server.testapi.clock import TestClock
from runnerkit.server.testapi.faults import Faults
from runnerkit.server.testapi.journal import HookInterceptor, Journal, JournalInterceptor
from runnerkit.server.testapi.state import StoreState, engine_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from runnerkit.server.asgi import ASGIApp
    from runnerkit.server.service import Services


class TestHooks:
    """The test controls of one server.

    Args:
        services: The server's services; ``self.services`` is a copy on ``self.clock``.
        http_routes: Whether the app answers ``/_runnerkit/*`` (admins only).
    """

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, services: Services, *, http_routes: bool = False) -> None:
        self.clock = TestClock()
        self.faults = Faults()
        self.journal = Journal()
        self.services = dataclasses.replace(services, clock=self.clock.now_micros)
        self.state = StoreState(engine_of(services.store))
        self.http_routes = http_routes
        self.on_reset: list[Callable[[], None]] = []
        self._initial: bytes | None = None

    def mark_initial(self) -> None:
        """Remember the current state as the one :meth:`reset` returns to."""
        self._initial = self.state.snapshot()

    def reset(self) -> None:
        """Back to the state of :meth:`mark_initial`, the wall clock and an empty journal.

        Faults stay (clear them with ``faults.clear()``).
        """
        if self._initial is None:
            raise RuntimeError("reset: no initial state was recorded (call mark_initial)")
        self.state.restore(self._initial)
        self.clock.reset()
        self.journal.clear()
        for hook in self.on_reset:
            hook()

    def interceptors(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """``(before_auth, after_auth)`` interceptors for the Connect applications."""
        return (JournalInterceptor(self.journal, self.clock),), (HookInterceptor(self.faults),)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """The app, answering ``/_runnerkit/*`` first when ``http_routes`` is on."""
        if not self.http_routes:
            return app
        from runnerkit.server.testapi.routes import TestAPIRoutes  # noqa: PLC0415

        return TestAPIRoutes(self, app)
