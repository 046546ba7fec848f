"""``APIResponse``: a response with its HTTP status and headers (``.with_raw_response``).

``client.runners.with_raw_response.retrieve(runner_id=...)`` calls the same RPC and returns an
``APIResponse``: ``.parse()`` is what the plain call returns (the response message, or the
first page of a List call), ``.headers`` / ``.trailers`` the response metadata (case-insensitive,
``.get(name)`` / ``.getall(name)``), ``.status_code`` the HTTP status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from connectrpc.client import ResponseMetadata
    from connectrpc.request import Headers

__all__ = ["APIResponse"]

T = TypeVar("T")


class APIResponse(Generic[T]):
    """One call's parsed result plus its HTTP status, headers and trailers."""

    __slots__ = ("_parsed", "headers", "status_code", "trailers")

    def __init__(self, parsed: T, metadata: ResponseMetadata) -> None:
        self._parsed = parsed
        self.status_code: int = metadata.http_status or 200
        """The HTTP status of the response (200 for a successful unary call)."""
        self.headers: Headers = metadata.headers
        """The response headers."""
        self.trailers: Headers = metadata.trailers
        """The response trailers (Connect unary: the ``trailer-`` prefixed headers)."""

    def parse(self) -> T:
        """The result of the call, as the plain method returns it.

        Returns:
            The response message (or the first page of a List call).
        """
        return self._parsed

    def __repr__(self) -> str:
        return f"<APIResponse status_code={self.status_code} {type(self._parsed).__name__}>"
