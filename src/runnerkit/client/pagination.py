"""One generic page type over any List RPC (``pagination`` in, ``pagination.next_token`` out).

``Page[T]`` / ``AsyncPage[T]`` wrap one response:

- iterating (``for`` / ``async for``) yields the items of this page and then, lazily, of every
  following page — each item exactly once;
- ``.items`` is this page's items, ``.next_token`` the server's token (empty on the last page),
  ``has_next_page()``, ``get_next_page()`` and ``iter_pages()`` walk page by page;
- any other attribute reads the response, so ``page.runners[0]`` works as in the reference;
  ``.response`` is the response message itself.

An async List method returns an :class:`AsyncPaginator`: awaited, it is the first
``AsyncPage``; ``async for`` over it yields every item.

:func:`paginate` / :func:`apaginate` do the same for any List method of the generated clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from google.protobuf.message import Message

from runnerkit.client.errors import RunnerKitError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator

    from google.protobuf.descriptor import Descriptor

__all__ = ["AsyncPage", "AsyncPaginator", "Page", "apaginate", "items_field", "paginate"]

T = TypeVar("T")
Req = TypeVar("Req", bound=Message)


def items_field(response_type: type[Message]) -> str:
    """Name of the repeated message field holding a List response's items.

    Args:
        response_type: A generated ``List...Response`` class.

    Returns:
        The field name, e.g. ``"runners"``.

    Raises:
        TypeError: The response has no (or more than one) repeated message field, or no
            ``pagination``.
    """
    desc = cast("Descriptor", response_type.DESCRIPTOR)
    names = [
        f.name
        for f in desc.fields
        if f.is_repeated
        and f.message_type is not None
        and not f.message_type.GetOptions().map_entry
    ]
    if len(names) != 1 or "pagination" not in desc.fields_by_name:
        raise TypeError(f"{desc.full_name} is not a paginated List response")
    return names[0]


class _PageBase(Generic[T]):
    __slots__ = ("_field", "_request", "_response")

    def __init__(self, request: Message, response: Message, field: str) -> None:
        self._request = request
        self._response = response
        self._field = field

    @property
    def response(self) -> Message:
        """The response message of this page."""
        return self._response

    @property
    def items(self) -> list[T]:
        """The items on this page only."""
        return list(getattr(self._response, self._field))

    @property
    def next_token(self) -> str:
        """The token of the next page; empty on the last page."""
        return str(getattr(self._response, "pagination").next_token)  # noqa: B009

    def has_next_page(self) -> bool:
        """Whether another page follows.

        Returns:
            True unless the server sent an empty ``next_token``.
        """
        return bool(self.next_token)

    def _next_request(self) -> Message:
        token = self.next_token
        if token == getattr(self._request, "pagination").token:  # noqa: B009
            raise RunnerKitError(f"the server returned the page token it was given: {token!r}")
        request = type(self._request)()
        request.CopyFrom(self._request)
        getattr(request, "pagination").token = token  # noqa: B009
        return request

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401 - the response's fields vary by RPC
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._response, name)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._field}={len(getattr(self._response, self._field))}, "
            f"next_token={self.next_token!r})"
        )


class Page(_PageBase[T]):
    """A page of a List RPC; iterating yields all items across all pages."""

    __slots__ = ("_fetch",)

    def __init__(
        self, request: Message, response: Message, field: str, fetch: Callable[[Any], Any]
    ) -> None:
        super().__init__(request, response, field)
        self._fetch = fetch

    def get_next_page(self) -> Page[T] | None:
        """Fetch the following page.

        Returns:
            The next page, or None on the last page.
        """
        if not self.has_next_page():
            return None
        request = self._next_request()
        return Page(request, self._fetch(request), self._field, self._fetch)

    def iter_pages(self) -> Iterator[Page[T]]:
        """Yield this page and then each following page, fetched lazily.

        Yields:
            Pages, starting with this one.
        """
        page: Page[T] | None = self
        while page is not None:
            yield page
            page = page.get_next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.items


class AsyncPage(_PageBase[T]):
    """A page of a List RPC for async clients; ``async for`` yields all items across pages."""

    __slots__ = ("_fetch",)

    def __init__(
        self,
        request: Message,
        response: Message,
        field: str,
        fetch: Callable[[Any], Awaitable[Any]],
    ) -> None:
        super().__init__(request, response, field)
        self._fetch = fetch

    async def get_next_page(self) -> AsyncPage[T] | None:
        """Fetch the following page.

        Returns:
            The next page, or None on the last page.
        """
        if not self.has_next_page():
            return None
        request = self._next_request()
        return AsyncPage(request, await self._fetch(request), self._field, self._fetch)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """Yield this page and then each following page, fetched lazily.

        Yields:
            Pages, starting with this one.
        """
        page: AsyncPage[T] | None = self
        while page is not None:
            yield page
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item


class AsyncPaginator(Generic[T]):
    """What an async List method returns: ``await`` it for the first page, or ``async for``.

    ``page = await client.runners.list()`` gives an :class:`AsyncPage`;
    ``async for runner in client.runners.list()`` yields every item across all pages. Each
    use sends its own requests.
    """

    __slots__ = ("_first",)

    def __init__(self, first: Callable[[], Awaitable[AsyncPage[T]]]) -> None:
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._first()
        async for item in page:
            yield item

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: await it for a page, or async for the items>"


def paginate(method: Callable[[Req], Message], request: Req) -> Page[Any]:
    """Page through any List RPC of a generated sync client.

    Example: ``for runner in paginate(client.runner_service.list_runners, ListRunnersRequest())``.

    Args:
        method: A bound List method, e.g. ``RunnerServiceClientSync.list_runners``.
        request: The first request (its ``pagination.token`` is usually empty).

    Returns:
        The first page; iterate it for every item.
    """
    response = method(request)
    return Page(request, response, items_field(type(response)), method)


async def apaginate(method: Callable[[Req], Awaitable[Message]], request: Req) -> AsyncPage[Any]:
    """Page through any List RPC of a generated async client.

    Args:
        method: A bound List method, e.g. ``RunnerServiceClient.list_runners``.
        request: The first request.

    Returns:
        The first page; ``async for`` over it for every item.
    """
    response = await method(request)
    return AsyncPage(request, response, items_field(type(response)), method)
