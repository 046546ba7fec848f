"""What users do with results: async for, to_dict/to_json, datetimes, raw responses, errors."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pyqwest
import pytest
from google.protobuf import duration_pb2, json_format, timestamp_pb2

import runnerkit
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2


@pytest.fixture(scope="module")
def made(real_server):
    url, admin = real_server
    with runnerkit.Client(base_url=url, bearer_token=admin) as client:
        return [
            client.runners.create(name=f"results {i}", provider="RUNNER_PROVIDER_AWS_EC2").runner
            for i in range(3)
        ]


# --- async list: awaitable and async-iterable --------------------------------------------


def test_async_for_over_the_list_call_yields_every_item(real_server, made):
    url, admin = real_server

    async def main() -> tuple[list[str], runnerkit.AsyncPage[runner_pb2.Runner]]:
        async with runnerkit.AsyncClient(base_url=url, bearer_token=admin) as client:
            seen = [r.runner_id async for r in client.runners.list(page_size=1)]
            first = await client.runners.list(page_size=1)
            return seen, first

    seen, first = asyncio.run(main())
    assert {r.runner_id for r in made} <= set(seen)
    assert len(seen) == len(set(seen))
    assert isinstance(first, runnerkit.AsyncPage)
    assert len(first.items) == 1
    assert first.has_next_page()


# --- to_dict / to_json / datetimes ---------------------------------------------------------


def test_to_dict_json_names_field_names_and_enum_names(made):
    runner = made[0]
    as_json = runnerkit.to_dict(runner)
    assert as_json["runnerId"] == runner.runner_id
    assert as_json["provider"] == "RUNNER_PROVIDER_AWS_EC2"
    assert as_json["status"]["phase"] == runner_pb2.RunnerPhase.Name(runner.status.phase)
    as_fields = runnerkit.to_dict(runner, use_field_names=True)
    assert as_fields["runner_id"] == runner.runner_id
    assert "runnerId" not in as_fields
    assert as_fields["created_at"] == runner.created_at.ToJsonString()


def test_to_json_is_compact_parsable_and_round_trips(made):
    runner = made[0]
    text = runnerkit.to_json(runner)
    assert "\n" not in text
    assert ": " not in text
    back = runner_pb2.Runner()
    json_format.Parse(text, back)
    assert back == runner
    assert json.loads(runnerkit.to_json(runner, indent=2)) == json.loads(text)
    assert json.loads(runnerkit.to_json(runner, use_field_names=True))["runner_id"]


def test_include_defaults_lists_fields_at_their_default():
    message = runner_pb2.DeleteRunnerRequest(runner_id="r")
    assert runnerkit.to_dict(message) == {"runnerId": "r"}
    assert runnerkit.to_dict(message, include_defaults=True) == {"runnerId": "r", "force": False}


def test_datetimes_out_are_as_short_as_in(made):
    runner = made[0]
    created = runnerkit.to_datetime(runner.created_at)
    assert created.tzinfo is UTC
    assert abs(datetime.now(UTC) - created) < timedelta(hours=1)
    native = runnerkit.to_dict(runner, datetimes=True)
    assert native["createdAt"] == created
    assert native["status"]["updatedAt"] == runnerkit.to_datetime(runner.status.updated_at)
    assert runnerkit.to_timedelta(duration_pb2.Duration(seconds=90, nanos=5_000)) == timedelta(
        seconds=90, microseconds=5
    )


def test_datetimes_in_repeated_and_nested_messages():
    ts = timestamp_pb2.Timestamp(seconds=1_893_492_000)
    token = runner_configuration_pb2.HostAuthenticationToken(id="t", expires_at=ts)
    response = runner_configuration_pb2.ListHostAuthenticationTokensResponse(tokens=[token])
    data = runnerkit.to_dict(response, datetimes=True, use_field_names=True)
    assert data["tokens"][0]["expires_at"] == datetime(2030, 1, 1, 10, tzinfo=UTC)


# --- raw responses -------------------------------------------------------------------------


def test_with_raw_response_gives_status_headers_and_the_parsed_response(real_server, made):
    url, admin = real_server
    with runnerkit.Client(base_url=url, bearer_token=admin) as client:
        raw = client.runners.with_raw_response.retrieve(runner_id=made[0].runner_id)
        assert isinstance(raw, runnerkit.APIResponse)
        assert raw.status_code == 200
        assert raw.headers.get("content-type") == "application/proto"
        parsed = raw.parse()
        assert isinstance(parsed, runner_pb2.GetRunnerResponse)
        assert parsed.runner == client.runners.retrieve(runner_id=made[0].runner_id).runner
        page = client.runners.with_raw_response.list(page_size=1).parse()
        assert isinstance(page, runnerkit.Page)
        assert len(page.items) == 1
        nested = client.runners.policies.with_raw_response.list(runner_id=made[0].runner_id)
        assert nested.status_code == 200
        assert client.runners.with_raw_response is client.runners.with_raw_response


def test_async_with_raw_response(real_server, made):
    url, admin = real_server

    async def main() -> tuple[int, str, runner_pb2.GetRunnerResponse, int]:
        async with runnerkit.AsyncClient(base_url=url, bearer_token=admin, codec="json") as c:
            raw = await c.runners.with_raw_response.retrieve(runner_id=made[0].runner_id)
            page = await c.runners.with_raw_response.list(page_size=2)
            return (
                raw.status_code,
                raw.headers["content-type"],
                raw.parse(),
                len(page.parse().items),
            )

    status, content_type, parsed, items = asyncio.run(main())
    assert status == 200
    assert content_type == "application/json"
    assert parsed.runner.runner_id == made[0].runner_id
    assert items == 2


# --- errors carry the HTTP status and headers -------------------------------------------------


def test_errors_carry_http_status_and_headers(real_server):
    url, admin = real_server
    with runnerkit.Client(base_url=url, bearer_token=admin) as client:
        with pytest.raises(runnerkit.NotFoundError) as missing:
            client.runners.retrieve(runner_id=str(uuid.uuid4()))
        assert missing.value.status_code == 404
        assert missing.value.headers.get("content-type") == "application/json"
        with pytest.raises(runnerkit.InvalidArgumentError) as invalid:
            client.runners.create(name="")
        assert invalid.value.status_code == 400
    with runnerkit.Client(base_url=url, bearer_token="rk_wrong") as stranger:
        with pytest.raises(runnerkit.UnauthenticatedError) as unauthenticated:
            stranger.runners.list()
        assert unauthenticated.value.status_code == 401


def test_connection_failure_has_no_status(unused_url):
    client = runnerkit.Client(base_url=unused_url, bearer_token="t", max_retries=0)
    with client, pytest.raises(runnerkit.UnavailableError) as failed:
        client.runners.retrieve(runner_id="r")
    assert failed.value.status_code is None
    assert dict(failed.value.headers) == {}


@pytest.fixture
def unused_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- the in-process route ----------------------------------------------------------------------


def test_sync_client_refuses_an_async_http_client_with_a_pointer_to_the_async_route():
    with pytest.raises(runnerkit.ConfigurationError, match="AsyncClient"):
        runnerkit.Client(bearer_token="t", http_client=pyqwest.Client())  # type: ignore[arg-type]
