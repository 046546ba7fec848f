"""GetRunnerConfigurationSchema and ValidateRunnerConfiguration."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from connectrpc.code import Code

from runnerkit.server.crypto import seal
from runnerkit.server.domain.config_schema import schema_for
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from runnerkit_proto.gitpod.v1 import runner_pb2
from tests.support.server import new_group_id

if TYPE_CHECKING:
    from tests.server.config.harness import ConfigApi

Validate = rc.ValidateRunnerConfigurationRequest
SCM = rc.ValidateRunnerConfigurationRequest.ValidateSCMIntegration


def schema(capi: ConfigApi, runner_id: str, token: str | None = None) -> Any:
    request = rc.GetRunnerConfigurationSchemaRequest(runner_id=runner_id)
    return capi("get_runner_configuration_schema", request, token).schema


@pytest.mark.parametrize(
    "provider",
    [rc.RUNNER_PROVIDER_AWS_EC2, rc.RUNNER_PROVIDER_GCP, rc.RUNNER_PROVIDER_DEV_AGENT],
)
def test_schema_is_the_providers(capi, provider):
    runner_id = capi.new_runner(provider)
    got = schema(capi, runner_id)
    assert got == schema_for(provider)
    assert got.version
    assert {s.scm_id for s in got.scm} == {"github", "gitlab", "bitbucket", "azuredevops"}
    github = next(s for s in got.scm if s.scm_id == "github")
    assert list(github.default_hosts) == ["github.com"]
    assert github.oauth.callback_url.startswith("https://")
    assert github.pat.docs_link.startswith("https://")
    kinds = {f.WhichOneof("type") for f in got.environment_classes}
    assert "int" in kinds


def test_schema_field_types_on_aws(capi):
    got = schema(capi, capi.new_runner())
    fields = {f.id: f for f in got.environment_classes}
    assert (fields["cpu"].int.min, fields["cpu"].int.max) == (1, 64)
    assert fields["spot"].WhichOneof("type") == "bool"
    enum = fields["instance_type"].enum
    assert enum.default_value.title == "m6i.xlarge"
    assert [v.title for v in enum.possible_values] == list(enum.values)
    assert fields["ami_id"].string.pattern
    assert fields["billing"].WhichOneof("type") == "display"
    assert any(f.required for f in got.runner_config)


def test_schema_and_validate_permissions(capi):
    runner_id = capi.new_runner()
    group = new_group_id()
    capi.grant(runner_id, group, runner_pb2.RUNNER_ROLE_USER)
    _, user = capi.user("u", groups=[group])
    _, stranger = capi.user("s")
    request = Validate(runner_id=runner_id, scm_integration=SCM(scm_id="github", host="github.com"))
    assert schema(capi, runner_id, user).version
    assert capi("validate_runner_configuration", request, user).scm_integration.valid
    denied = Code.PERMISSION_DENIED
    for target in (runner_id, str(uuid.uuid4())):
        capi.fails(
            "get_runner_configuration_schema",
            rc.GetRunnerConfigurationSchemaRequest(runner_id=target),
            denied,
            stranger,
        )
        other = Validate(runner_id=target, scm_integration=SCM(scm_id="github", host="github.com"))
        capi.fails("validate_runner_configuration", other, denied, stranger)
    missing = rc.GetRunnerConfigurationSchemaRequest(runner_id=str(uuid.uuid4()))
    capi.fails("get_runner_configuration_schema", missing, Code.NOT_FOUND)
    for bad in ("", "x"):
        message = capi.fails(
            "get_runner_configuration_schema",
            rc.GetRunnerConfigurationSchemaRequest(runner_id=bad),
            Code.INVALID_ARGUMENT,
        ).message
        assert message.startswith("runner_id")


def test_validate_needs_one_config_member(capi):
    runner_id = capi.new_runner()
    message = capi.fails(
        "validate_runner_configuration", Validate(runner_id=runner_id), Code.INVALID_ARGUMENT
    ).message
    assert message.startswith("config")


def test_validate_environment_class_results(capi):
    runner_id = capi.new_runner()
    ok = rc.EnvironmentClass(
        display_name="Large",
        description="A class",
        configuration=[
            rc.FieldValue(key="cpu", value="8"),
            rc.FieldValue(key="spot", value="true"),
        ],
    )
    answer = capi(
        "validate_runner_configuration", Validate(runner_id=runner_id, environment_class=ok)
    )
    assert answer.environment_class == rc.EnvironmentClassValidationResult(valid=True)
    # runner_id may come from the environment class itself.
    ok.runner_id = runner_id
    answer = capi("validate_runner_configuration", Validate(environment_class=ok))
    assert answer.environment_class.valid
    bad = rc.EnvironmentClass(
        display_name="",
        description="A class",
        configuration=[rc.FieldValue(key="memory", value="1")],
    )
    answer = capi(
        "validate_runner_configuration", Validate(runner_id=runner_id, environment_class=bad)
    )
    result = answer.environment_class
    assert not result.valid
    assert result.display_name_error == "display_name must be at least 3 characters"
    assert not result.HasField("description_error")
    assert [(e.key, e.error) for e in result.configuration_errors] == [
        ("memory", "must be at least 512")
    ]
    many = rc.EnvironmentClass(
        display_name="xyz", configuration=[rc.FieldValue(key=f"k{i}") for i in range(101)]
    )
    answer = capi(
        "validate_runner_configuration", Validate(runner_id=runner_id, environment_class=many)
    )
    assert not answer.environment_class.valid  # a result, never an RPC error
    [(key, error)] = [(e.key, e.error) for e in answer.environment_class.configuration_errors]
    assert (key, error) == ("", "at most 100 configuration entries")


def test_validate_scm_integration_results(capi):
    runner_id, other = capi.new_runner(), capi.new_runner()
    answer = capi(
        "validate_runner_configuration",
        Validate(
            runner_id=runner_id,
            scm_integration=SCM(
                scm_id="github",
                host="github.com",
                oauth_client_id="client_id",
                oauth_plaintext_client_secret="client_secret",
                pat=True,
            ),
        ),
    )
    assert answer.scm_integration == rc.SCMIntegrationValidationResult(valid=True)
    answer = capi(
        "validate_runner_configuration",
        Validate(runner_id=runner_id, scm_integration=SCM(scm_id="gitlab", host="github.com")),
    )
    result = answer.scm_integration
    assert not result.valid
    assert result.host_error == "host github.com is served by scm_id 'github'"
    # An already encrypted secret must be sealed to this runner's key.
    public_key = capi.runners(
        "get_runner", runner_pb2.GetRunnerRequest(runner_id=runner_id)
    ).runner.status.public_key
    foreign_key = capi.runners(
        "get_runner", runner_pb2.GetRunnerRequest(runner_id=other)
    ).runner.status.public_key
    for key, valid in ((public_key, True), (foreign_key, False)):
        scm = SCM(
            scm_id="github",
            host="github.com",
            oauth_client_id="id",
            oauth_encrypted_client_secret=seal(key, b"s"),
        )
        answer = capi(
            "validate_runner_configuration", Validate(runner_id=runner_id, scm_integration=scm)
        )
        assert answer.scm_integration.valid is valid
        if not valid:
            assert "oauth_encrypted_client_secret" in answer.scm_integration.oauth_error
    # With the id of an existing integration, its stored secret counts.
    integration_id = capi(
        "create_scm_integration",
        rc.CreateSCMIntegrationRequest(
            runner_id=runner_id,
            scm_id="github",
            host="github.com",
            oauth_client_id="id",
            oauth_plaintext_client_secret="s",
        ),
    ).id
    scm = SCM(scm_id="github", host="github.com", oauth_client_id="new_id")
    answer = capi(
        "validate_runner_configuration", Validate(runner_id=runner_id, scm_integration=scm)
    )
    assert answer.scm_integration.oauth_error
    scm.id = integration_id
    answer = capi(
        "validate_runner_configuration", Validate(runner_id=runner_id, scm_integration=scm)
    )
    assert answer.scm_integration.valid
    scm.id = "integration-id"  # no rule applies to this request: a malformed id names nothing
    capi.fails(
        "validate_runner_configuration",
        Validate(runner_id=runner_id, scm_integration=scm),
        Code.NOT_FOUND,
    )
    scm.id = integration_id
    capi.fails(
        "validate_runner_configuration",
        Validate(runner_id=other, scm_integration=scm),
        Code.NOT_FOUND,
    )
    # Validation stores nothing.
    listed = capi("list_scm_integrations", rc.ListSCMIntegrationsRequest())
    assert [i.id for i in listed.integrations] == [integration_id]
