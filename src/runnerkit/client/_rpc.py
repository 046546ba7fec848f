"""The declarative core of the facade, shared by the sync and async clients (no IO).

A resource class lists its methods as descriptors::

    class PoliciesResource(Resource[ModeT]):
        create = Rpc(runner_pb2.CreateRunnerPolicyRequest, runner_pb2.CreateRunnerPolicyResponse)
        list = ListRpc(runner_pb2.ListRunnerPoliciesRequest, ..., runner_pb2.RunnerPolicy)

The RPC (service and method) is found from the request/response types in the schema, so the
table cannot drift from ``gen/``. Reading a descriptor on a ``Resource[Sync]`` gives a call
returning the response message (or a :class:`~runnerkit.client.pagination.Page`); on a
``Resource[Async]`` the same call returns an awaitable. One call path serves both: it turns
keyword arguments into the request message (:mod:`runnerkit.client._params`) and hands it to
the client's *invoker*, the only part that differs between sync and async.

Static keyword signatures for IDEs and mypy come from ``_api.py``, generated from this table
by ``_apigen``; mypy checks that the resource classes conform to it.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast, overload

from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from google.protobuf.message import Message

from runnerkit.client._params import build_request, field_names
from runnerkit.client.pagination import items_field

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping

    from google.protobuf.descriptor import Descriptor, MethodDescriptor

    from runnerkit.client.pagination import AsyncPaginator, Page

__all__ = ["Async", "Invoker", "ListRpc", "ModeT", "Resource", "Rpc", "RpcSpec", "Sync"]

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)
Item = TypeVar("Item", bound=Message)
Req_contra = TypeVar("Req_contra", bound=Message, contravariant=True)
Resp_co = TypeVar("Resp_co", covariant=True)


class Sync:
    """Type marker: a resource of a blocking :class:`~runnerkit.Client`."""


class Async:
    """Type marker: a resource of an :class:`~runnerkit.AsyncClient`."""


ModeT = TypeVar("ModeT", Sync, Async)

# google.protobuf.MethodOptions.IdempotencyLevel numbers → connectrpc's enum.
_IDEMPOTENCY = {1: IdempotencyLevel.NO_SIDE_EFFECTS, 2: IdempotencyLevel.IDEMPOTENT}


@dataclass(frozen=True)
class RpcSpec:
    """One row of the facade table: which RPC a facade method calls."""

    service: str
    """Full service name, e.g. ``gitpod.v1.RunnerService``."""
    name: str
    """RPC name, e.g. ``ListRunners``."""
    request_type: type[Message]
    response_type: type[Message]
    items: str | None = None
    """For List RPCs: the repeated field holding the items."""
    facade_name: str = field(default="", compare=False)
    """Where the facade exposes it, e.g. ``runners.list`` (set when the class is built)."""

    @functools.cached_property
    def method(self) -> str:
        """The snake_case method name of the generated clients, e.g. ``list_runners``."""
        out = []
        for i, ch in enumerate(self.name):
            prev = self.name[i - 1] if i else ""
            nxt = self.name[i + 1] if i + 1 < len(self.name) else ""
            if ch.isupper() and i and (prev.islower() or (nxt.islower() and prev.isupper())):
                out.append("_")
            out.append(ch.lower())
        return "".join(out)

    @functools.cached_property
    def method_info(self) -> MethodInfo[Any, Any]:
        """The connectrpc description of the RPC (what the generated methods build per call)."""
        method = _find_rpc(self.request_type, self.response_type)
        level = method.GetOptions().idempotency_level
        return MethodInfo(
            name=self.name,
            service_name=self.service,
            input=self.request_type,
            output=self.response_type,
            idempotency_level=_IDEMPOTENCY.get(level, IdempotencyLevel.UNKNOWN),
            stream_type=StreamType.UNARY,
        )


class Invoker(Protocol):
    """Performs calls for a client; the only sync/async-specific part of the facade."""

    def unary(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> Any:  # noqa: ANN401
        """Call a unary RPC; returns the response (sync) or an awaitable of it (async)."""

    def list(
        self,
        spec: RpcSpec,
        request: Message,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> Any:  # noqa: ANN401
        """Call a List RPC: the first page (sync), or an awaitable and async-iterable (async)."""

    def raw(self) -> Invoker:
        """The same calls, returning :class:`~runnerkit.client.results.APIResponse` wrappers."""


class Resource(Generic[ModeT]):
    """A namespace of facade methods (``client.runners``, ``client.runners.policies``, …)."""

    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker

    @property
    def with_raw_response(self) -> Any:  # noqa: ANN401 - typed by the generated Protocols
        """The same methods, returning an ``APIResponse`` (status, headers, ``parse()``)."""
        raw = self.__dict__.get("_raw_view")
        if raw is None:
            raw = self.__dict__["_raw_view"] = type(self)(self._invoker.raw())
        return raw

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class SyncCall(Protocol[Req_contra, Resp_co]):
    """A blocking facade method: keyword arguments (or a request) in, a response out."""

    def __call__(
        self,
        request: Req_contra | Mapping[str, object] | None = None,
        /,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        **params: object,
    ) -> Resp_co:
        """Call the RPC."""


class AsyncCall(Protocol[Req_contra, Resp_co]):
    """An async facade method: keyword arguments (or a request) in, an awaitable out."""

    def __call__(
        self,
        request: Req_contra | Mapping[str, object] | None = None,
        /,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        **params: object,
    ) -> Awaitable[Resp_co]:
        """Call the RPC."""


class AsyncListCall(Protocol[Req_contra, Resp_co]):
    """An async List method: the result is awaited (first page) or ``async for``-ed (items)."""

    def __call__(
        self,
        request: Req_contra | Mapping[str, object] | None = None,
        /,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        **params: object,
    ) -> Resp_co:
        """Call the RPC."""


def _find_rpc(request_type: type[Message], response_type: type[Message]) -> MethodDescriptor:
    desc = cast("Descriptor", request_type.DESCRIPTOR)
    for service in desc.file.services_by_name.values():
        for method in service.methods:
            if (
                method.input_type.full_name == desc.full_name
                and method.output_type.full_name == response_type.DESCRIPTOR.full_name
            ):
                return method
    raise LookupError(f"no RPC takes {desc.full_name} and returns {response_type.__name__}")


def _plain_fields(request_type: type[Message]) -> frozenset[str]:
    """Fields a keyword can set by the message constructor as is: singular plain scalars."""
    desc = cast("Descriptor", request_type.DESCRIPTOR)
    return frozenset(
        f.name
        for f in desc.fields
        if not f.is_repeated
        and f.message_type is None
        and f.enum_type is None
        and f.type != f.TYPE_BYTES
    )


class _BoundCall:
    """The runtime object behind every facade method (sync and async alike)."""

    __slots__ = ("__dict__", "_call", "_plain", "_spec", "_type")

    def __init__(self, spec: RpcSpec, invoker: Invoker, *, is_list: bool, doc: str | None) -> None:
        self._spec = spec
        self._type = spec.request_type
        self._plain = _plain_fields(spec.request_type)
        self._call = invoker.list if is_list else invoker.unary
        self.__doc__ = doc

    def __call__(
        self,
        request: Message | Mapping[str, object] | None = None,
        /,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        **params: object,
    ) -> object:
        if request is None and params.keys() <= self._plain:
            # The common case (ids, names, flags): the constructor checks the types itself.
            message = self._type(**{k: v for k, v in params.items() if v is not None})
        else:
            message = build_request(self._type, request, params, where=self._spec.facade_name)
        return self._call(self._spec, message, timeout, headers)

    @property
    def __signature__(self) -> inspect.Signature:
        """The keyword parameters of the request message, for ``help()`` and IDEs."""
        kw = inspect.Parameter.KEYWORD_ONLY
        params = [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_ONLY, default=None),
            inspect.Parameter("timeout", kw, default=None),
            inspect.Parameter("headers", kw, default=None),
        ]
        desc = cast("Descriptor", self._spec.request_type.DESCRIPTOR)
        params += [inspect.Parameter(n, kw, default=None) for n in field_names(desc)]
        return inspect.Signature(params)

    def __repr__(self) -> str:
        return f"<facade method {self._spec.facade_name} → {self._spec.service}/{self._spec.name}>"


class _Descriptor:
    _is_list = False

    def __init__(self, request_type: type[Message], response_type: type[Message]) -> None:
        method = _find_rpc(request_type, response_type)
        self.spec = RpcSpec(
            service=method.containing_service.full_name,
            name=method.name,
            request_type=request_type,
            response_type=response_type,
            items=items_field(response_type) if self._is_list else None,
        )
        self._doc = _rpc_doc(self.spec)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        path = getattr(owner, "facade_path", owner.__name__)
        self.spec = replace(self.spec, facade_name=f"{path}.{name}")
        self._name = name

    def _bind(self, obj: Resource[Any]) -> _BoundCall:
        # Cached on the instance: later lookups find it there and skip this descriptor.
        bound = _BoundCall(self.spec, obj._invoker, is_list=self._is_list, doc=self._doc)
        obj.__dict__[self._name] = bound
        return bound


def _rpc_doc(spec: RpcSpec) -> str:
    return (
        f"Call {spec.service}/{spec.name}.\n\n"
        f"Keyword arguments are the fields of {spec.request_type.__name__} (messages or dicts, "
        "enum names or numbers, datetimes for timestamps). Returns "
        + (f"a page of {spec.items}." if spec.items else f"a {spec.response_type.__name__}.")
    )


class Rpc(_Descriptor, Generic[Req, Resp]):
    """A unary facade method: ``client.runners.create(...)`` → ``CreateRunnerResponse``."""

    def __init__(self, request_type: type[Req], response_type: type[Resp]) -> None:
        super().__init__(request_type, response_type)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Rpc[Req, Resp]: ...
    @overload
    def __get__(self, obj: Resource[Sync], owner: type[Any]) -> SyncCall[Req, Resp]: ...
    @overload
    def __get__(self, obj: Resource[Async], owner: type[Any]) -> AsyncCall[Req, Resp]: ...
    def __get__(self, obj: Resource[Any] | None, owner: type[Any]) -> Any:
        return self if obj is None else self._bind(obj)


class ListRpc(_Descriptor, Generic[Req, Item]):
    """A List facade method: returns a :class:`Page` (sync) or :class:`AsyncPage` (async)."""

    _is_list = True

    def __init__(
        self, request_type: type[Req], response_type: type[Message], item_type: type[Item]
    ) -> None:
        super().__init__(request_type, response_type)
        self.item_type = item_type

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> ListRpc[Req, Item]: ...
    @overload
    def __get__(self, obj: Resource[Sync], owner: type[Any]) -> SyncCall[Req, Page[Item]]: ...
    @overload
    def __get__(
        self, obj: Resource[Async], owner: type[Any]
    ) -> AsyncListCall[Req, AsyncPaginator[Item]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: type[Any]) -> Any:
        return self if obj is None else self._bind(obj)
