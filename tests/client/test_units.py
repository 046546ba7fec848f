"""Pure functions: timestamps, request building, public surface."""

from __future__ import annotations

import functools
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

import runnerkit
import runnerkit.client
from runnerkit.client._params import build_request
from runnerkit.client._rpc import RpcSpec, _Descriptor
from runnerkit.timestamps import format_timestamp, from_timestamp, parse_timestamp, to_timestamp
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2

BEARER = "bearer-value-for-tests"

# --- timestamps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds", "nanos"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), 0, 0),
        (datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC), -1, 500_000_000),
        (datetime(2024, 12, 31, 23, 59, 59), 1735689599, 0),  # noqa: DTZ001 - naive is read as UTC
        (datetime(2025, 1, 1, 0, 59, 59, 1, tzinfo=timezone(timedelta(hours=1))), 1735689599, 1000),
        (datetime(1, 1, 1, tzinfo=UTC), -62135596800, 0),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), 253402300799, 999_999_000),
    ],
)
def test_to_timestamp_table(value, seconds, nanos):
    ts = to_timestamp(value)
    assert (ts.seconds, ts.nanos) == (seconds, nanos)
    back = from_timestamp(ts)
    assert back.tzinfo is UTC
    expected = value if value.tzinfo else value.replace(tzinfo=UTC)
    assert back == expected


def test_from_timestamp_truncates_nanoseconds():
    ts = timestamp_pb2.Timestamp(seconds=1, nanos=999)
    assert from_timestamp(ts) == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds", "nanos"),
    [
        ("2024-12-31T23:59:59Z", 1735689599, 0),
        ("2024-12-31T23:59:59", 1735689599, 0),
        ("2024-12-31T23:59:59.123456789+00:00", 1735689599, 123456789),
        ("2025-01-01T01:59:59.5+02:00", 1735689599, 500_000_000),
    ],
)
def test_parse_timestamp_keeps_nanoseconds(text, seconds, nanos):
    ts = parse_timestamp(text)
    assert (ts.seconds, ts.nanos) == (seconds, nanos)


def test_format_and_bad_input():
    assert format_timestamp(timestamp_pb2.Timestamp(seconds=0, nanos=1)) == (
        "1970-01-01T00:00:00.000000001Z"
    )
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_timestamp("yesterday")
    with pytest.raises(TypeError):
        to_timestamp("2024-01-01")  # type: ignore[arg-type]


@given(st.datetimes(timezones=st.just(UTC)))
def test_round_trip_property(value):
    assert from_timestamp(to_timestamp(value)) == value


@given(st.datetimes())
def test_naive_round_trip_property(value):
    assert from_timestamp(to_timestamp(value)) == value.replace(tzinfo=UTC)


# --- request building ------------------------------------------------------------------


def test_build_request_nested_enums_timestamps_and_pagination():
    req = build_request(
        runner_pb2.ListRunnersRequest,
        None,
        {"filter": {"providers": ["RUNNER_PROVIDER_AWS_EC2", 4]}, "token": "abc", "page_size": 3},
    )
    assert list(req.filter.providers) == [1, 4]
    assert req.pagination.token == "abc"
    assert req.pagination.page_size == 3


def test_build_request_empty_submessage_sets_presence():
    req = build_request(
        runner_pb2.UpdateRunnerRequest,
        None,
        {"runner_id": "x", "spec": {"configuration": {"update_window": {}}}},
    )
    assert req.spec.configuration.HasField("update_window")


def test_build_request_none_means_not_given_and_optional_presence():
    req = build_request(runner_pb2.UpdateRunnerRequest, None, {"name": None, "runner_id": "x"})
    assert not req.HasField("name")
    req = build_request(runner_pb2.UpdateRunnerRequest, None, {"name": ""})
    assert req.HasField("name")


def test_build_request_messages_and_camel_case():
    token = runner_configuration_pb2.CreateHostAuthenticationTokenRequest
    req = build_request(
        token,
        {"runnerId": "r", "expiresAt": "2024-12-31T23:59:59"},
        {"scopes": ["repo"], "expires_at": timestamp_pb2.Timestamp(seconds=5)},
    )
    assert req.runner_id == "r"
    assert req.expires_at.seconds == 5
    assert list(req.scopes) == ["repo"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"bogus": 1}, TypeError),
        ({"filter": {"providers": "RUNNER_PROVIDER_AWS_EC2"}}, TypeError),
        ({"filter": {"providers": ["NOPE"]}}, ValueError),
        ({"filter": 3}, TypeError),
        ({"filter": runner_pb2.Runner()}, TypeError),
        ({"pagination": {"page_size": "x"}}, TypeError),
    ],
)
def test_build_request_errors(params, error):
    with pytest.raises(error):
        build_request(runner_pb2.ListRunnersRequest, None, params)


def test_build_request_rejects_wrong_message():
    with pytest.raises(TypeError, match="ListRunnersRequest"):
        build_request(runner_pb2.ListRunnersRequest, runner_pb2.GetRunnerRequest(), {})


def test_rpc_spec_method_names():
    names = {
        "ParseContextURL": "parse_context_url",
        "ListSCMOrganizations": "list_scm_organizations",
        "CreateSCMIntegration": "create_scm_integration",
        "GetRunner": "get_runner",
    }
    for rpc, method in names.items():
        spec = RpcSpec("s", rpc, runner_pb2.GetRunnerRequest, runner_pb2.GetRunnerResponse)
        assert spec.method == method


# --- public surface --------------------------------------------------------------------


ERRORS = {
    "APIError",
    "AbortedError",
    "AlreadyExistsError",
    "ConfigurationError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "RunnerKitError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
}
SURFACE = {
    "Client",
    "AsyncClient",
    "Page",
    "AsyncPage",
    "AsyncPaginator",
    "APIResponse",
    "RetryPolicy",
    "paginate",
    "apaginate",
}
MESSAGES = {"to_dict", "to_json", "to_datetime", "to_timedelta"}


def test_public_surface_is_pinned():
    assert set(runnerkit.__all__) == ERRORS | SURFACE | MESSAGES | {"__version__"}
    assert set(runnerkit.client.__all__) == ERRORS | SURFACE | {
        "CompactJSONCodec",
        "DEFAULT_BASE_URL",
        "DEFAULT_TIMEOUT",
    }
    for name in runnerkit.__all__:
        assert getattr(runnerkit, name) is not None
    for name in runnerkit.client.__all__:
        assert getattr(runnerkit.client, name) is not None
    assert runnerkit.Client is runnerkit.client.Client
    with pytest.raises(AttributeError):
        _ = runnerkit.nothing_here


def _facade_methods(resource: object, path: str = "runners") -> dict[str, RpcSpec]:
    out: dict[str, RpcSpec] = {}
    for name in dir(type(resource)):
        attr = getattr(type(resource), name)
        if isinstance(attr, _Descriptor):
            out[f"{path}.{name}"] = attr.spec
        elif isinstance(attr, functools.cached_property):
            out |= _facade_methods(getattr(resource, name), f"{path}.{name}")
    return out


def test_facade_covers_every_rpc_exactly_once():
    client = runnerkit.Client(bearer_token=BEARER)
    specs = _facade_methods(client.runners)
    rpcs = sorted(f"{s.service}/{s.name}" for s in specs.values())
    expected = sorted(
        f"{svc.full_name}/{m.name}"
        for mod in (runner_pb2, runner_configuration_pb2)
        for svc in mod.DESCRIPTOR.services_by_name.values()
        for m in svc.methods
    )
    assert rpcs == expected
    assert len(rpcs) == 32
    assert all(spec.facade_name == path for path, spec in specs.items())
    assert specs["runners.create_logs_token"].name == "CreateRunnerLogsToken"
    assert specs["runners.configurations.schema.retrieve"].name == "GetRunnerConfigurationSchema"
    for spec in specs.values():
        assert hasattr(client.runner_service, spec.method) or hasattr(
            client.runner_configuration_service, spec.method
        )


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [("runnerkit.client", "runnerkit.server"), ("runnerkit.server", "runnerkit.client")],
)
def test_client_and_server_never_import_each_other(module, forbidden):
    code = f"import sys, {module}; print(any(m.startswith('{forbidden}') for m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"
