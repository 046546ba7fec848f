"""``RunnerConfigurationServiceHandler``: the generated protocol on ``server.service``.

Same thin pattern as ``runner_service.py``: each method takes the caller from the auth
interceptor and runs the synchronous operation in a worker thread; domain errors become
``ConnectError`` values in ``server.errors.ErrorInterceptor``. One addition: a configuration
that fails validation (``ConfigurationInvalidError``) becomes ``invalid_argument`` carrying the
validation result as an error detail (``EnvironmentClassValidationResult`` or
``SCMIntegrationValidationResult``), the same message ValidateRunnerConfiguration answers with.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf.wkt import Any as AnyDetail

from runnerkit.server.auth import current_subject
from runnerkit.server.service import (
    configuration,
    environment_classes,
    host_tokens,
    scm_integrations,
)
from runnerkit.server.service.configuration import ConfigurationInvalidError
from runnerkit_proto.gitpod.v1 import runner_configuration_connect
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2

if TYPE_CHECKING:
    from collections.abc import Callable

    from connectrpc.request import RequestContext
    from google.protobuf.message import Message

    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import SubjectRecord

_REQ = TypeVar("_REQ")
_RES = TypeVar("_RES")


def detail(message: Message) -> AnyDetail:
    """A google protobuf message as the protobuf-py ``Any`` that Connect error details need."""
    return AnyDetail(
        type_url="type.googleapis.com/" + message.DESCRIPTOR.full_name,
        value=message.SerializeToString(deterministic=True),
    )


class RunnerConfigurationServiceHandler(runner_configuration_connect.RunnerConfigurationService):
    """Serves all 16 RunnerConfigurationService RPCs."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def _run(
        self, operation: Callable[[Services, SubjectRecord, _REQ], _RES], request: _REQ
    ) -> _RES:
        try:
            return await asyncio.to_thread(operation, self._services, current_subject(), request)
        except ConfigurationInvalidError as exc:
            raise ConnectError(
                Code.INVALID_ARGUMENT, exc.message, details=[detail(exc.result)]
            ) from exc

    async def create_host_authentication_token(
        self,
        request: rc_pb2.CreateHostAuthenticationTokenRequest,
        ctx: RequestContext[
            rc_pb2.CreateHostAuthenticationTokenRequest,
            rc_pb2.CreateHostAuthenticationTokenResponse,
        ],
        /,
    ) -> rc_pb2.CreateHostAuthenticationTokenResponse:
        """CreateHostAuthenticationToken."""
        return await self._run(host_tokens.create_host_authentication_token, request)

    async def get_host_authentication_token(
        self,
        request: rc_pb2.GetHostAuthenticationTokenRequest,
        ctx: RequestContext[
            rc_pb2.GetHostAuthenticationTokenRequest, rc_pb2.GetHostAuthenticationTokenResponse
        ],
        /,
    ) -> rc_pb2.GetHostAuthenticationTokenResponse:
        """GetHostAuthenticationToken."""
        return await self._run(host_tokens.get_host_authentication_token, request)

    async def list_host_authentication_tokens(
        self,
        request: rc_pb2.ListHostAuthenticationTokensRequest,
        ctx: RequestContext[
            rc_pb2.ListHostAuthenticationTokensRequest, rc_pb2.ListHostAuthenticationTokensResponse
        ],
        /,
    ) -> rc_pb2.ListHostAuthenticationTokensResponse:
        """ListHostAuthenticationTokens."""
        return await self._run(host_tokens.list_host_authentication_tokens, request)

    async def update_host_authentication_token(
        self,
        request: rc_pb2.UpdateHostAuthenticationTokenRequest,
        ctx: RequestContext[
            rc_pb2.UpdateHostAuthenticationTokenRequest,
            rc_pb2.UpdateHostAuthenticationTokenResponse,
        ],
        /,
    ) -> rc_pb2.UpdateHostAuthenticationTokenResponse:
        """UpdateHostAuthenticationToken."""
        return await self._run(host_tokens.update_host_authentication_token, request)

    async def delete_host_authentication_token(
        self,
        request: rc_pb2.DeleteHostAuthenticationTokenRequest,
        ctx: RequestContext[
            rc_pb2.DeleteHostAuthenticationTokenRequest,
            rc_pb2.DeleteHostAuthenticationTokenResponse,
        ],
        /,
    ) -> rc_pb2.DeleteHostAuthenticationTokenResponse:
        """DeleteHostAuthenticationToken."""
        return await self._run(host_tokens.delete_host_authentication_token, request)

    async def get_runner_configuration_schema(
        self,
        request: rc_pb2.GetRunnerConfigurationSchemaRequest,
        ctx: RequestContext[
            rc_pb2.GetRunnerConfigurationSchemaRequest, rc_pb2.GetRunnerConfigurationSchemaResponse
        ],
        /,
    ) -> rc_pb2.GetRunnerConfigurationSchemaResponse:
        """GetRunnerConfigurationSchema."""
        return await self._run(configuration.get_runner_configuration_schema, request)

    async def create_scm_integration(
        self,
        request: rc_pb2.CreateSCMIntegrationRequest,
        ctx: RequestContext[
            rc_pb2.CreateSCMIntegrationRequest, rc_pb2.CreateSCMIntegrationResponse
        ],
        /,
    ) -> rc_pb2.CreateSCMIntegrationResponse:
        """CreateSCMIntegration."""
        return await self._run(scm_integrations.create_scm_integration, request)

    async def get_scm_integration(
        self,
        request: rc_pb2.GetSCMIntegrationRequest,
        ctx: RequestContext[rc_pb2.GetSCMIntegrationRequest, rc_pb2.GetSCMIntegrationResponse],
        /,
    ) -> rc_pb2.GetSCMIntegrationResponse:
        """GetSCMIntegration."""
        return await self._run(scm_integrations.get_scm_integration, request)

    async def list_scm_integrations(
        self,
        request: rc_pb2.ListSCMIntegrationsRequest,
        ctx: RequestContext[rc_pb2.ListSCMIntegrationsRequest, rc_pb2.ListSCMIntegrationsResponse],
        /,
    ) -> rc_pb2.ListSCMIntegrationsResponse:
        """ListSCMIntegrations."""
        return await self._run(scm_integrations.list_scm_integrations, request)

    async def update_scm_integration(
        self,
        request: rc_pb2.UpdateSCMIntegrationRequest,
        ctx: RequestContext[
            rc_pb2.UpdateSCMIntegrationRequest, rc_pb2.UpdateSCMIntegrationResponse
        ],
        /,
    ) -> rc_pb2.UpdateSCMIntegrationResponse:
        """UpdateSCMIntegration."""
        return await self._run(scm_integrations.update_scm_integration, request)

    async def delete_scm_integration(
        self,
        request: rc_pb2.DeleteSCMIntegrationRequest,
        ctx: RequestContext[
            rc_pb2.DeleteSCMIntegrationRequest, rc_pb2.DeleteSCMIntegrationResponse
        ],
        /,
    ) -> rc_pb2.DeleteSCMIntegrationResponse:
        """DeleteSCMIntegration."""
        return await self._run(scm_integrations.delete_scm_integration, request)

    async def create_environment_class(
        self,
        request: rc_pb2.CreateEnvironmentClassRequest,
        ctx: RequestContext[
            rc_pb2.CreateEnvironmentClassRequest, rc_pb2.CreateEnvironmentClassResponse
        ],
        /,
    ) -> rc_pb2.CreateEnvironmentClassResponse:
        """CreateEnvironmentClass."""
        return await self._run(environment_classes.create_environment_class, request)

    async def get_environment_class(
        self,
        request: rc_pb2.GetEnvironmentClassRequest,
        ctx: RequestContext[rc_pb2.GetEnvironmentClassRequest, rc_pb2.GetEnvironmentClassResponse],
        /,
    ) -> rc_pb2.GetEnvironmentClassResponse:
        """GetEnvironmentClass."""
        return await self._run(environment_classes.get_environment_class, request)

    async def list_environment_classes(
        self,
        request: rc_pb2.ListEnvironmentClassesRequest,
        ctx: RequestContext[
            rc_pb2.ListEnvironmentClassesRequest, rc_pb2.ListEnvironmentClassesResponse
        ],
        /,
    ) -> rc_pb2.ListEnvironmentClassesResponse:
        """ListEnvironmentClasses."""
        return await self._run(environment_classes.list_environment_classes, request)

    async def update_environment_class(
        self,
        request: rc_pb2.UpdateEnvironmentClassRequest,
        ctx: RequestContext[
            rc_pb2.UpdateEnvironmentClassRequest, rc_pb2.UpdateEnvironmentClassResponse
        ],
        /,
    ) -> rc_pb2.UpdateEnvironmentClassResponse:
        """UpdateEnvironmentClass."""
        return await self._run(environment_classes.update_environment_class, request)

    async def validate_runner_configuration(
        self,
        request: rc_pb2.ValidateRunnerConfigurationRequest,
        ctx: RequestContext[
            rc_pb2.ValidateRunnerConfigurationRequest, rc_pb2.ValidateRunnerConfigurationResponse
        ],
        /,
    ) -> rc_pb2.ValidateRunnerConfigurationResponse:
        """ValidateRunnerConfiguration."""
        return await self._run(configuration.validate_runner_configuration, request)
