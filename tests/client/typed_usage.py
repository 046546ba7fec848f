"""Typical user code against the facade; ``test_typing`` runs ``mypy --strict`` on this file.

It is type-checked, never executed: ``assert_type`` pins what users' type checkers see.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import assert_type

import runnerkit
from runnerkit import AsyncPage, Page
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2


def sync_usage(client: runnerkit.Client) -> list[str]:
    created = client.runners.create(
        name="Production Runner",
        provider="RUNNER_PROVIDER_AWS_EC2",
        spec={"configuration": {"region": "us-west"}, "desired_phase": "RUNNER_PHASE_ACTIVE"},
    )
    assert_type(created, runner_pb2.CreateRunnerResponse)
    runner: runner_pb2.Runner = created.runner
    got = client.runners.retrieve(runner_id=runner.runner_id, timeout=5.0)
    assert_type(got, runner_pb2.GetRunnerResponse)
    page = client.runners.list(filter={"providers": ["RUNNER_PROVIDER_AWS_EC2"]}, page_size=7)
    assert_type(page, Page[runner_pb2.Runner])
    first: runner_pb2.Runner = page.items[0]
    names = [r.name for r in page]
    token: str = page.next_token
    for p in page.iter_pages():
        assert_type(p, Page[runner_pb2.Runner])
    policies = client.runners.policies.list(runner_id=first.runner_id)
    assert_type(policies, Page[runner_pb2.RunnerPolicy])
    tokens = client.runners.configurations.host_authentication_tokens
    made = tokens.create(
        token="gho_x",
        expires_at=datetime.fromisoformat("2024-12-31T23:59:59"),
        host="github.com",
        runner_id=runner.runner_id,
        source="HOST_AUTHENTICATION_TOKEN_SOURCE_OAUTH",
    )
    assert_type(made, runner_configuration_pb2.CreateHostAuthenticationTokenResponse)
    schema = client.runners.configurations.schema.retrieve(runner_id=runner.runner_id)
    assert_type(schema, runner_configuration_pb2.GetRunnerConfigurationSchemaResponse)
    classes = client.runners.configurations.environment_classes.list(filter={"enabled": True})
    assert_type(classes, Page[runner_configuration_pb2.EnvironmentClass])
    request = runner_pb2.GetRunnerRequest(runner_id=runner.runner_id)
    assert_type(client.runners.retrieve(request), runner_pb2.GetRunnerResponse)
    raw = client.runner_service.get_runner(request)
    assert_type(raw, runner_pb2.GetRunnerResponse)
    try:
        client.runners.delete(runner_id=runner.runner_id)
    except runnerkit.NotFoundError as error:
        code: str = error.code.value
        names.append(code + error.message)
    return [*names, token]


async def async_usage(client: runnerkit.AsyncClient) -> list[str]:
    created = await client.runners.create(name="r", provider="RUNNER_PROVIDER_LINUX_HOST")
    assert_type(created, runner_pb2.CreateRunnerResponse)
    page = await client.runners.list(page_size=7)
    assert_type(page, AsyncPage[runner_pb2.Runner])
    names = [r.name async for r in page]
    async for p in page.iter_pages():
        assert_type(p, AsyncPage[runner_pb2.Runner])
    integrations = await client.runners.configurations.scm_integrations.list()
    assert_type(integrations, AsyncPage[runner_configuration_pb2.SCMIntegration])
    async for runner in client.runners.list(filter={"providers": ["RUNNER_PROVIDER_GCP"]}):
        assert_type(runner, runner_pb2.Runner)
        names.append(runner.name)
    raw = await client.runners.with_raw_response.retrieve(runner_id="r")
    assert_type(raw, runnerkit.APIResponse[runner_pb2.GetRunnerResponse])
    raw_page = await client.runners.with_raw_response.list()
    assert_type(raw_page.parse(), AsyncPage[runner_pb2.Runner])
    return names


def results_usage(client: runnerkit.Client) -> dict[str, object]:
    raw = client.runners.with_raw_response.retrieve(runner_id="r")
    assert_type(raw, runnerkit.APIResponse[runner_pb2.GetRunnerResponse])
    status: int = raw.status_code
    content_type: str | None = raw.headers.get("content-type")
    runner = raw.parse().runner
    created: datetime = runnerkit.to_datetime(runner.created_at)
    nested = client.runners.policies.with_raw_response.create(
        runner_id="r", group_id="g", role="RUNNER_ROLE_ADMIN"
    )
    assert_type(nested.parse(), runner_pb2.CreateRunnerPolicyResponse)
    client.runners.update(runner_id="r", spec={"desired_phase": runner_pb2.RUNNER_PHASE_ACTIVE})
    client.runners.create(name="n", provider=runner_configuration_pb2.RUNNER_PROVIDER_GCP)
    try:
        client.runners.retrieve(runner_id="r")
    except runnerkit.APIError as error:
        http_status: int | None = error.status_code
        status = http_status or status
    data = runnerkit.to_dict(runner, use_field_names=True)
    return {"status": status, "type": content_type, "at": created, **data}


def main() -> None:
    with runnerkit.Client(bearer_token="t", base_url="http://127.0.0.1:1") as client:
        sync_usage(client)
    asyncio.run(async_usage(runnerkit.AsyncClient(bearer_token="t")))
