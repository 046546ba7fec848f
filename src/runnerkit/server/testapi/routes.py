"""``/_runnerkit/*``: the test controls over HTTP, for tests written in any language.

Served only by ``runnerkit serve --test-api``; every path needs an org admin's bearer token.
JSON in and out; errors are ``{"code": ..., "message": ...}`` like Connect's (400
``invalid_argument``, 401 ``unauthenticated``, 403 ``permission_denied``, 404 ``not_found``,
405 ``unimplemented``). docs/testing.md lists the paths with curl examples.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format

from runnerkit.server.asgi import read_body, send_json
from runnerkit.server.auth import bearer_token
from runnerkit.server.crypto import hash_token
from runnerkit.server.domain.errors import DomainError, NotFoundError
from runnerkit.server.testapi.runners import (
    TokenRejectedError,
    check_logs_token,
    redeem_exchange_token,
    set_runner_status,
)
from runnerkit.server.testapi.state import SnapshotError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from runnerkit.server.asgi import ASGIApp, Receive, Scope, Send
    from runnerkit.server.testapi.hooks import TestHooks

PREFIX = "/_runnerkit/"
MAX_BODY_BYTES = 256 * 1024 * 1024  # snapshots of big stores


class _FailError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _FailError(400, "invalid_argument", "request body: not JSON") from None
    if not isinstance(value, dict):
        raise _FailError(400, "invalid_argument", "request body: expected a JSON object")
    return value


class TestAPIRoutes:
    """ASGI app: ``/_runnerkit/*`` here, every other path to ``app``."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, hooks: TestHooks, app: ASGIApp) -> None:
        self._hooks = hooks
        self._app = app
        self._routes: dict[tuple[str, str], Callable[[bytes], Awaitable[object]]] = {
            ("POST", "reset"): self._reset,
            ("GET", "snapshot"): self._snapshot,
            ("POST", "restore"): self._restore,
            ("GET", "faults"): self._faults,
            ("POST", "faults"): self._add_fault,
            ("DELETE", "faults"): self._clear_faults,
            ("GET", "requests"): self._requests,
            ("DELETE", "requests"): self._clear_requests,
            ("GET", "clock"): self._clock,
            ("POST", "clock/advance"): self._advance,
            ("POST", "runners/status"): self._runner_status,
            ("POST", "runners/exchange"): self._exchange,
            ("POST", "runners/logs-token"): self._logs_token,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a test API path, or pass the request on."""
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX):
            await self._app(scope, receive, send)
            return
        try:
            await self._authorize(scope)
            name = path[len(PREFIX) :].strip("/")
            methods = {m for (m, n) in self._routes if n == name}
            if not methods:
                raise _FailError(404, "not_found", f"no test API path {path[:200]}")
            handler = self._routes.get((scope["method"], name))
            if handler is None:
                allowed = ", ".join(sorted(methods))
                raise _FailError(405, "unimplemented", f"{path} answers {allowed}")
            body = await read_body(receive, MAX_BODY_BYTES)
            if body is None:
                raise _FailError(413, "resource_exhausted", "request body too large")
            result = await handler(body)
        except _FailError as fail:
            await send_json(send, fail.status, {"code": fail.code, "message": fail.message}, [])
            return
        except (SnapshotError, TokenRejectedError, ValueError) as exc:
            await send_json(send, 400, {"code": "invalid_argument", "message": str(exc)}, [])
            return
        except NotFoundError as exc:
            await send_json(send, 404, {"code": "not_found", "message": exc.message}, [])
            return
        except DomainError as exc:
            await send_json(send, 400, {"code": "invalid_argument", "message": exc.message}, [])
            return
        await send_json(send, 200, result, [])

    async def _authorize(self, scope: Scope) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        token = bearer_token(headers.get("authorization"))
        if token is None:
            raise _FailError(401, "unauthenticated", "missing or invalid bearer token")
        store = self._hooks.services.store
        subject = await asyncio.to_thread(store.subject_for_token, hash_token(token))
        if subject is None:
            raise _FailError(401, "unauthenticated", "missing or invalid bearer token")
        if not subject.org_admin:
            raise _FailError(403, "permission_denied", "the test API is for org admins")

    async def _reset(self, _body: bytes) -> object:
        await asyncio.to_thread(self._hooks.reset)
        return {}

    async def _snapshot(self, _body: bytes) -> object:
        return json.loads(await asyncio.to_thread(self._hooks.state.snapshot))

    async def _restore(self, body: bytes) -> object:
        await asyncio.to_thread(self._hooks.state.restore, body)
        return {}

    async def _faults(self, _body: bytes) -> object:
        return {"faults": [f.as_dict() for f in self._hooks.faults.list()]}

    async def _add_fault(self, body: bytes) -> object:
        return {"fault": self._hooks.faults.add_from(_object(body)).as_dict()}

    async def _clear_faults(self, _body: bytes) -> object:
        self._hooks.faults.clear()
        return {}

    async def _requests(self, _body: bytes) -> object:
        return {"requests": [e.as_dict() for e in self._hooks.journal.entries()]}

    async def _clear_requests(self, _body: bytes) -> object:
        self._hooks.journal.clear()
        return {}

    async def _clock(self, _body: bytes) -> object:
        clock = self._hooks.clock
        return {"now": _rfc3339(clock.now()), "offset_seconds": clock.offset_seconds}

    async def _advance(self, body: bytes) -> object:
        spec = _object(body)
        unknown = sorted(set(spec) - {"seconds", "minutes", "hours"})
        if unknown:
            raise _FailError(400, "invalid_argument", f"unknown field(s): {', '.join(unknown)}")
        amounts = {k: spec.get(k, 0) for k in ("seconds", "minutes", "hours")}
        for key, value in amounts.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _FailError(400, "invalid_argument", f"{key}: expected a number")
        self._hooks.clock.advance(
            float(amounts["seconds"]),
            minutes=float(amounts["minutes"]),
            hours=float(amounts["hours"]),
        )
        return await self._clock(b"")

    async def _runner_status(self, body: bytes) -> object:
        spec = _object(body)
        runner_id = spec.pop("runner_id", spec.pop("runnerId", ""))
        if not isinstance(runner_id, str):
            raise _FailError(400, "invalid_argument", "runner_id: expected a string")
        runner = await asyncio.to_thread(set_runner_status, self._hooks.services, runner_id, spec)
        return {"runner": json_format.MessageToDict(runner)}

    async def _exchange(self, body: bytes) -> object:
        token = _object(body).get("exchange_token", "")
        if not isinstance(token, str) or not token:
            raise _FailError(400, "invalid_argument", "exchange_token: required")
        runner_id = await asyncio.to_thread(redeem_exchange_token, self._hooks.services, token)
        return {"runner_id": runner_id}

    async def _logs_token(self, body: bytes) -> object:
        token = _object(body).get("access_token", "")
        if not isinstance(token, str) or not token:
            raise _FailError(400, "invalid_argument", "access_token: required")
        runner_id = await asyncio.to_thread(check_logs_token, self._hooks.services, token)
        return {"runner_id": runner_id}


def _rfc3339(value: Any) -> str:  # noqa: ANN401 - a datetime
    return str(value.isoformat()).replace("+00:00", "Z")
