"""``client.runners.configurations``: RunnerConfigurationService."""

from __future__ import annotations

from functools import cached_property

from runnerkit.client._rpc import ModeT, Resource, Rpc
from runnerkit.client.resources.configurations.environment_classes import (
    EnvironmentClassesResource,
)
from runnerkit.client.resources.configurations.host_authentication_tokens import (
    HostAuthenticationTokensResource,
)
from runnerkit.client.resources.configurations.schema import SchemaResource
from runnerkit.client.resources.configurations.scm_integrations import ScmIntegrationsResource
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as pb

__all__ = ["ConfigurationsResource"]


class ConfigurationsResource(Resource[ModeT]):
    """Validation plus the configuration namespaces of a runner."""

    facade_path = "runners.configurations"

    validate = Rpc(pb.ValidateRunnerConfigurationRequest, pb.ValidateRunnerConfigurationResponse)

    @cached_property
    def environment_classes(self) -> EnvironmentClassesResource[ModeT]:
        """``client.runners.configurations.environment_classes``."""
        return EnvironmentClassesResource(self._invoker)

    @cached_property
    def host_authentication_tokens(self) -> HostAuthenticationTokensResource[ModeT]:
        """``client.runners.configurations.host_authentication_tokens``."""
        return HostAuthenticationTokensResource(self._invoker)

    @cached_property
    def scm_integrations(self) -> ScmIntegrationsResource[ModeT]:
        """``client.runners.configurations.scm_integrations``."""
        return ScmIntegrationsResource(self._invoker)

    @cached_property
    def schema(self) -> SchemaResource[ModeT]:
        """``client.runners.configurations.schema``."""
        return SchemaResource(self._invoker)
