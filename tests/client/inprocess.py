"""A *sync* pyqwest transport that runs an ASGI app in process.

pyqwest ships ``ASGITransport`` for async clients only; this bridges it for sync clients by
running the app on a private event loop in a helper thread, so ``runnerkit.Client`` can talk to
the reference server without a socket.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any, Self

from pyqwest import Headers, Request, SyncRequest, SyncResponse
from pyqwest.testing import ASGITransport

if TYPE_CHECKING:
    from types import TracebackType


class SyncASGITransport:
    """``pyqwest.SyncTransport`` over ``pyqwest.testing.ASGITransport`` (lifespan included)."""

    def __init__(self, app: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._asgi = ASGITransport(app)
        self._run(self._asgi.__aenter__())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=60)

    async def _execute(self, request: SyncRequest) -> SyncResponse:
        content = request.content
        body = content if isinstance(content, bytes) else b"".join(content)
        response = await self._asgi.execute(
            Request(request.method, request.url, Headers(request.headers.items()), body)
        )
        data = b"".join([bytes(chunk) async for chunk in response.content])
        return SyncResponse(
            status=response.status,
            headers=Headers(response.headers.items()),
            content=data,
            trailers=response.trailers,
        )

    def execute_sync(self, request: SyncRequest) -> SyncResponse:
        """Run one request through the app and return the buffered response."""
        result: SyncResponse = self._run(self._execute(request))
        return result

    def close(self) -> None:
        """Shut the app down (lifespan) and stop the loop thread."""
        self._run(self._asgi.__aexit__(None, None, None))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
