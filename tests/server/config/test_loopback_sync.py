"""The synchronous generated client over a real socket, with both codecs."""

from __future__ import annotations

import pytest
from connectrpc.code import Code
from connectrpc.compat import google_protobuf_binary_codec, google_protobuf_json_codec
from connectrpc.errors import ConnectError

from runnerkit_proto.gitpod.v1 import runner_configuration_connect, runner_connect, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from tests.support.server import running_server


@pytest.mark.parametrize("json", [False, True], ids=["proto", "json"])
def test_sync_client_over_loopback(tmp_path, json):
    codec = google_protobuf_json_codec() if json else google_protobuf_binary_codec()
    with running_server(tmp_path) as (base_url, token):
        headers = {"authorization": f"Bearer {token}"}
        runners = runner_connect.RunnerServiceClientSync(base_url, codec=codec)
        config = runner_configuration_connect.RunnerConfigurationServiceClientSync(
            base_url, codec=codec
        )
        try:
            runner_id = runners.create_runner(
                runner_pb2.CreateRunnerRequest(name="runner", provider=rc.RUNNER_PROVIDER_GCP),
                headers=headers,
            ).runner.runner_id
            schema = config.get_runner_configuration_schema(
                rc.GetRunnerConfigurationSchemaRequest(runner_id=runner_id), headers=headers
            ).schema
            assert any(f.id == "machine_type" for f in schema.environment_classes)
            integration_id = config.create_scm_integration(
                rc.CreateSCMIntegrationRequest(
                    runner_id=runner_id,
                    scm_id="github",
                    host="github.com",
                    oauth_client_id="id",
                    oauth_plaintext_client_secret="secret",
                ),
                headers=headers,
            ).id
            got = config.get_scm_integration(
                rc.GetSCMIntegrationRequest(id=integration_id), headers=headers
            ).integration
            assert len(got.oauth.encrypted_client_secret) == 48 + len("secret")
            with pytest.raises(ConnectError) as info:
                config.create_environment_class(
                    rc.CreateEnvironmentClassRequest(
                        runner_id=runner_id,
                        display_name="xyz",
                        description="A class",
                        configuration=[rc.FieldValue(key="machine_type", value="huge")],
                    ),
                    headers=headers,
                )
            assert info.value.code == Code.INVALID_ARGUMENT
            [detail] = info.value.details
            result = rc.EnvironmentClassValidationResult.FromString(detail.message_bytes)
            assert [e.key for e in result.configuration_errors] == ["machine_type"]
            # Connect GET for a NO_SIDE_EFFECTS method.
            listed = config.list_scm_integrations(
                rc.ListSCMIntegrationsRequest(), headers=headers, use_get=True
            )
            assert [i.id for i in listed.integrations] == [integration_id]
        finally:
            config.close()
            runners.close()
