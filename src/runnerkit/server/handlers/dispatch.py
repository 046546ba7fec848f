"""``TableHandler``: a generated service protocol implemented from a handler table.

For each row of a table (``handlers/table.py``) the handler gets a method of the row's name
that takes the caller from the auth interceptor (``auth.current_subject``) and runs the row's
operation through the ``Executor`` (inline, store pool or SCM pool). The methods are made once,
when the handler is built, so a call costs one coroutine and the executor's choice.

Domain errors become ``ConnectError`` values in ``server.pipeline.RequestPipeline``. One
addition here: a configuration that fails validation (``ConfigurationInvalidError``) becomes
``invalid_argument`` carrying the validation result as an error detail
(``EnvironmentClassValidationResult`` or ``SCMIntegrationValidationResult``), the same message
ValidateRunnerConfiguration answers with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf.wkt import Any as AnyDetail

from runnerkit.server.auth import current_subject
from runnerkit.server.handlers.execution import Executor, Runs
from runnerkit.server.service.configuration import ConfigurationInvalidError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from google.protobuf.message import Message

    from runnerkit.server.handlers.table import Operation
    from runnerkit.server.service import Services


def detail(message: Message) -> AnyDetail:
    """A google protobuf message as the protobuf-py ``Any`` that Connect error details need."""
    return AnyDetail(
        type_url="type.googleapis.com/" + message.DESCRIPTOR.full_name,
        value=message.SerializeToString(deterministic=True),
    )


class TableHandler:
    """Base of the service handlers: one method per row of ``TABLE``.

    Args:
        services: What the operations get as their first argument.
        executor: Runs the operations; by default the policy for ``services.store``.
    """

    TABLE: ClassVar[Mapping[str, Operation]]

    def __init__(self, services: Services, executor: Executor | None = None) -> None:
        self._services = services
        self._executor = executor if executor is not None else Executor.for_store(services.store)
        for name, operation in self.TABLE.items():
            setattr(self, name, self._method(name, operation))

    def _method(self, name: str, operation: Operation) -> Callable[[Any, Any], Awaitable[Any]]:
        services, function, unless = self._services, operation.function, operation.unless
        run = self._executor.runner(operation.runs)
        read = self._executor.runner(Runs.READ)

        async def method(request: Any, ctx: Any, /) -> Any:  # noqa: ANN401 - any RPC
            subject = current_subject()
            runner = read if unless is not None and unless(request) else run
            try:
                return await runner(function, services, subject, request)
            except ConfigurationInvalidError as exc:
                raise ConnectError(
                    Code.INVALID_ARGUMENT, exc.message, details=[detail(exc.result)]
                ) from exc

        method.__name__ = name
        method.__qualname__ = f"{type(self).__name__}.{name}"
        return method
