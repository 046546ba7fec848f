"""Client mechanics against a fake API over loopback: config, headers, codecs, errors, retries."""

from __future__ import annotations

import asyncio
import inspect
import socket
import uuid
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pyqwest
import pytest
from connectrpc.client import ResponseMetadata
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import Headers
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from protobuf.wkt import Any as PbAny

import runnerkit
from runnerkit.client import errors
from runnerkit.client.auth import BearerAuth
from runnerkit.client.retry import RetryInterceptor, RetryPolicy, _parse_retry_after
from runnerkit.timestamps import from_timestamp
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2
from tests.client.fake_api import Failure

BEARER = "bearer-value-for-tests"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    def policy(self, **kw) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, async_sleep=self.async_sleep, random=lambda: 0.0, **kw)


def make(url: str, **kw) -> runnerkit.Client:
    return runnerkit.Client(base_url=url, bearer_token=BEARER, **kw)


def amake(url: str, **kw) -> runnerkit.AsyncClient:
    return runnerkit.AsyncClient(base_url=url, bearer_token=BEARER, **kw)


# --- configuration ---------------------------------------------------------------------


def test_missing_token_is_a_clear_error_at_construction():
    with pytest.raises(runnerkit.ConfigurationError, match="GITPOD_API_KEY"):
        runnerkit.Client()
    with pytest.raises(runnerkit.ConfigurationError):
        runnerkit.AsyncClient()


def test_token_and_base_url_from_environment(monkeypatch, fake):
    url, state = fake
    monkeypatch.setenv("GITPOD_API_KEY", "env-token")
    monkeypatch.setenv("GITPOD_BASE_URL", url + "/")
    client = runnerkit.Client()
    assert client.base_url == url
    client.runners.create(name="r", provider="RUNNER_PROVIDER_LINUX_HOST")
    assert state.requests[-1][1]["authorization"] == "Bearer env-token"


def test_default_base_url():
    client = runnerkit.Client(bearer_token=BEARER)
    assert client.base_url == "https://app.gitpod.io/api"


def test_token_never_in_repr():
    client = runnerkit.Client(bearer_token=BEARER)
    texts = [
        repr(client),
        str(client),
        repr(client.runners),
        repr(client.runners.create),
        repr(BearerAuth(BEARER)),
        repr(RetryInterceptor()),
    ]
    assert all(BEARER not in t for t in texts)


def test_bad_base_url():
    with pytest.raises(runnerkit.ConfigurationError):
        runnerkit.Client(bearer_token=BEARER, base_url="ftp://x")


# --- headers and codecs ----------------------------------------------------------------


def _list_request(creator_id_bytes: int) -> runner_pb2.ListRunnersRequest:
    return runner_pb2.ListRunnersRequest(
        filter=runner_pb2.ListRunnersRequest.Filter(creator_ids=["x" * creator_id_bytes])
    )


def test_requests_from_compress_min_bytes_up_are_gzipped(fake):
    url, state = fake
    with make(url) as client:
        list(client.runners.list(filter={"creator_ids": ["x" * 1100]}))
        assert state.requests[-1][1].get("content-encoding") == "gzip"
        list(client.runners.list(filter={"creator_ids": ["x" * 900]}))
        assert state.requests[-1][1].get("content-encoding") == "identity"
        # The generated clients the facade exposes follow the same threshold.
        client.runner_service.list_runners(_list_request(1100))
        assert state.requests[-1][1].get("content-encoding") == "gzip"
        client.runner_service.list_runners(_list_request(900))
        assert state.requests[-1][1].get("content-encoding") == "identity"
    with make(url, compression=None) as plain:
        plain.runner_service.list_runners(_list_request(1100))
        assert state.requests[-1][1].get("content-encoding") == "identity"

    async def exposed_async() -> list[str | None]:
        async with amake(url) as client:
            encodings = []
            for size in (1100, 900):
                await client.runner_service.list_runners(_list_request(size))
                encodings.append(state.requests[-1][1].get("content-encoding"))
            return encodings

    assert asyncio.run(exposed_async()) == ["gzip", "identity"]


@pytest.mark.parametrize(
    ("kwargs", "content_type", "encoding"),
    [
        ({}, "application/proto", "identity"),  # below compress_min_bytes
        ({"compress_min_bytes": 0}, "application/proto", "gzip"),
        ({"codec": "json", "compress_min_bytes": 0}, "application/json", "gzip"),
        (
            {"codec": "json", "compression": None, "compress_min_bytes": 0},
            "application/json",
            "identity",
        ),
    ],
)
def test_codec_and_compression(fake, kwargs, content_type, encoding):
    url, state = fake
    with make(url, **kwargs) as client:
        created = client.runners.create(name="r", provider="RUNNER_PROVIDER_AWS_EC2")
        got = client.runners.retrieve(runner_id=created.runner.runner_id)
    assert got.runner.provider == runner_configuration_pb2.RUNNER_PROVIDER_AWS_EC2
    headers = state.requests[-1][1]
    assert headers["content-type"] == content_type
    assert headers.get("content-encoding") == encoding
    assert headers["authorization"] == "Bearer " + BEARER


def test_generated_clients_are_reachable_and_authenticated(fake):
    url, state = fake
    client = make(url)
    response = client.runner_service.create_runner(
        runner_pb2.CreateRunnerRequest(
            name="raw", provider=runner_configuration_pb2.RUNNER_PROVIDER_GCP
        )
    )
    assert response.runner.name == "raw"
    assert state.requests[-1][1]["authorization"] == "Bearer " + BEARER


def test_kwargs_dicts_enum_names_and_messages(fake):
    url, state = fake
    client = make(url)
    client.runners.create(
        name="Production Runner",
        provider="RUNNER_PROVIDER_AWS_EC2",
        spec={
            "configuration": {"auto_update": True, "region": "us-west", "releaseChannel": 1},
            "desired_phase": "RUNNER_PHASE_ACTIVE",
        },
    )
    request = state.requests[-1][2]
    assert request.spec.configuration.region == "us-west"
    assert request.spec.configuration.release_channel == 1
    assert request.spec.desired_phase == runner_pb2.RUNNER_PHASE_ACTIVE
    # a request message plus overriding keywords
    base = runner_pb2.CreateRunnerRequest(
        name="a", provider=runner_configuration_pb2.RUNNER_PROVIDER_GCP
    )
    client.runners.create(base, name="b")
    assert state.requests[-1][2].name == "b"
    assert base.name == "a"


def test_unknown_keyword_and_bad_enum(fake):
    url, _ = fake
    client = make(url)
    with pytest.raises(TypeError, match=r"runners\.create\(\) got an unexpected argument 'nme'"):
        client.runners.create(nme="x")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="RUNNER_PROVIDER_AWS_EC2"):
        client.runners.create(name="x", provider="AWS")  # type: ignore[arg-type]


def test_trace_context_is_propagated_unless_the_transport_turns_it_off(fake):
    # pyqwest's OpenTelemetry instrumentation (on by default) sends the current span's context
    # as ``traceparent``; a transport made with ``enable_otel=False`` sends none (docs/client.md).
    url, state = fake
    runner_id = make(url).runners.create(name="r", provider="RUNNER_PROVIDER_GCP").runner.runner_id
    context = SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
        span_id=0x00F067AA0BA902B7,
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    untraced = pyqwest.SyncClient(pyqwest.SyncHTTPTransport(enable_otel=False))
    seen = []
    for client in (make(url), make(url, http_client=untraced)):
        with trace.use_span(NonRecordingSpan(context)):
            client.runners.retrieve(runner_id=runner_id)
        seen.append(state.requests[-1][1].get("traceparent"))
    assert seen == ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", None]


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (Code.INVALID_ARGUMENT, runnerkit.InvalidArgumentError),
        (Code.NOT_FOUND, runnerkit.NotFoundError),
        (Code.ALREADY_EXISTS, runnerkit.AlreadyExistsError),
        (Code.PERMISSION_DENIED, runnerkit.PermissionDeniedError),
        (Code.UNAUTHENTICATED, runnerkit.UnauthenticatedError),
        (Code.FAILED_PRECONDITION, runnerkit.FailedPreconditionError),
        (Code.ABORTED, runnerkit.AbortedError),
        (Code.RESOURCE_EXHAUSTED, runnerkit.ResourceExhaustedError),
        (Code.UNAVAILABLE, runnerkit.UnavailableError),
        (Code.DEADLINE_EXCEEDED, runnerkit.DeadlineExceededError),
        (Code.INTERNAL, runnerkit.InternalError),
        (Code.UNIMPLEMENTED, runnerkit.UnimplementedError),
        (Code.DATA_LOSS, runnerkit.APIError),
        (Code.OUT_OF_RANGE, runnerkit.APIError),
    ],
)
def test_error_classes_over_the_wire(fake, code, cls):
    url, state = fake
    state.failures["CreateRunner"] = Failure(1, code)
    with pytest.raises(cls) as info:
        make(url, max_retries=0).runners.create(name="x")
    assert type(info.value) is cls
    assert info.value.code is code
    assert info.value.message == "injected " + code.value + " for CreateRunner"
    assert isinstance(info.value.__cause__, ConnectError)
    assert isinstance(info.value, runnerkit.RunnerKitError)


def test_unimplemented_rpc(fake):
    url, _ = fake
    with pytest.raises(runnerkit.UnimplementedError):
        make(url).runners.parse_context_url(context_url="https://github.com/a/b")


def test_error_details_are_kept():
    detail = runner_pb2.GetRunnerRequest(runner_id="x")
    any_detail = PbAny(
        type_url="type.googleapis.com/" + detail.DESCRIPTOR.full_name,
        value=detail.SerializeToString(),
    )
    err = errors.from_connect_error(ConnectError(Code.NOT_FOUND, "gone", details=[any_detail]))
    assert isinstance(err, runnerkit.NotFoundError)
    assert err.detail(runner_pb2.GetRunnerRequest) == detail
    assert err.detail(runner_pb2.Runner) is None
    assert repr(err) == "NotFoundError(code='not_found', message='gone')"


def test_async_errors(fake):
    url, _ = fake

    async def main() -> None:
        async with amake(url) as client:
            with pytest.raises(runnerkit.NotFoundError) as info:
                await client.runners.retrieve(runner_id=str(uuid.uuid4()))
            assert isinstance(info.value.__cause__, ConnectError)

    asyncio.run(main())


# --- retries ---------------------------------------------------------------------------


def test_safe_method_is_retried_until_success(fake):
    url, state = fake
    sleeps = Sleeps()
    client = make(url, retry_policy=sleeps.policy())
    runner = client.runners.create(name="r", provider="RUNNER_PROVIDER_GCP").runner
    state.failures["GetRunner"] = Failure(2)
    assert client.runners.retrieve(runner_id=runner.runner_id).runner.name == "r"
    assert state.calls["GetRunner"] == 3
    assert sleeps.delays == [0.5, 1.0]


def test_retries_give_up_after_max(fake):
    url, state = fake
    sleeps = Sleeps()
    state.failures["ListRunners"] = Failure(10)
    with pytest.raises(runnerkit.UnavailableError):
        make(url, retry_policy=sleeps.policy(max_retries=3)).runners.list()
    assert state.calls["ListRunners"] == 4
    assert sleeps.delays == [0.5, 1.0, 2.0]


def test_backoff_caps_and_jitters():
    policy = RetryPolicy(random=lambda: 1.0)
    assert policy.backoff(0) == 0.5 * 0.75
    assert policy.backoff(10) == 8.0 * 0.75
    assert policy.backoff(0, retry_after=3.0) == 3.0
    assert policy.backoff(0, retry_after=61.0) == 0.5 * 0.75


@pytest.mark.parametrize(
    ("rpc", "verb", "kwargs"),
    [
        ("CreateRunner", "create", {"name": "x"}),
        ("UpdateRunner", "update", {"runner_id": "x", "name": "y"}),
        ("DeleteRunner", "delete", {"runner_id": "x"}),
    ],
)
def test_unsafe_methods_are_not_retried(fake, rpc, verb, kwargs):
    url, state = fake
    sleeps = Sleeps()
    method = getattr(make(url, retry_policy=sleeps.policy()).runners, verb)
    state.failures[rpc] = Failure(1)
    with pytest.raises(runnerkit.UnavailableError):
        method(**kwargs)
    assert state.calls[rpc] == 1
    assert sleeps.delays == []


@pytest.mark.parametrize("code", [Code.INTERNAL, Code.NOT_FOUND, Code.RESOURCE_EXHAUSTED])
def test_other_codes_are_not_retried(fake, code):
    url, state = fake
    sleeps = Sleeps()
    state.failures["ListRunners"] = Failure(1, code)
    with pytest.raises(runnerkit.APIError):
        make(url, retry_policy=sleeps.policy()).runners.list()
    assert state.calls["ListRunners"] == 1


def test_retry_after_is_honoured_and_headers_reach_the_caller(fake):
    url, state = fake
    sleeps = Sleeps()
    state.failures["ListRunners"] = Failure(1, headers={"retry-after": "7"})
    client = make(url, retry_policy=sleeps.policy())
    with ResponseMetadata() as meta:
        client.runners.list()
    assert sleeps.delays == [7.0]
    assert meta.http_status == 200


def test_should_retry_false_is_honoured(fake):
    url, state = fake
    sleeps = Sleeps()
    state.failures["ListRunners"] = Failure(1, headers={"x-should-retry": "false"})
    with pytest.raises(runnerkit.UnavailableError):
        make(url, retry_policy=sleeps.policy()).runners.list()
    assert state.calls["ListRunners"] == 1


def test_connection_refused_is_retried_even_for_create():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = Sleeps()
    client = make(f"http://127.0.0.1:{port}", retry_policy=sleeps.policy())
    with pytest.raises(runnerkit.UnavailableError) as info:
        client.runners.create(name="x")
    assert sleeps.delays == [0.5, 1.0]
    assert isinstance(info.value.__cause__, ConnectError)


def test_async_retries(fake):
    url, state = fake
    sleeps = Sleeps()

    async def main() -> None:
        client = amake(url, retry_policy=sleeps.policy())
        state.failures["ListRunners"] = Failure(2)
        page = await client.runners.list()
        assert page.items == []
        state.failures["CreateRunner"] = Failure(1)
        with pytest.raises(runnerkit.UnavailableError):
            await client.runners.create(name="x")
        await client.close()

    asyncio.run(main())
    assert state.calls["ListRunners"] == 3
    assert state.calls["CreateRunner"] == 1
    assert sleeps.delays == [0.5, 1.0]


def test_timeout_maps_to_deadline_exceeded(fake):
    url, state = fake
    state.delay = 0.5
    with pytest.raises(runnerkit.DeadlineExceededError):
        make(url).runners.list(timeout=0.1)


# --- timestamps through the facade -----------------------------------------------------


@pytest.mark.parametrize("codec", ["proto", "json"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            datetime(2024, 12, 31, 23, 59, 59),  # noqa: DTZ001 - naive input is the case under test
            datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC),
        ),
        (
            datetime(2025, 1, 1, 1, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
            datetime(2024, 12, 31, 23, 0, 0, 123456, tzinfo=UTC),
        ),
        ("2024-12-31T23:59:59", datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_timestamps_round_trip_through_the_facade(fake, codec, value, expected):
    url, _ = fake
    client = make(url, codec=codec)
    token = client.runners.configurations.host_authentication_tokens.create(
        host="github.com", runner_id="r", expires_at=value
    ).token
    assert token.expires_at.ToDatetime(tzinfo=UTC) == expected
    assert from_timestamp(token.expires_at) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_parsing(headers, expected):
    assert _parse_retry_after(Headers(headers)) == expected


def test_retry_after_http_date():
    when = datetime.now(UTC) + timedelta(seconds=30)
    value = _parse_retry_after(Headers({"retry-after": format_datetime(when, usegmt=True)}))
    assert value is not None
    assert 25 < value <= 31


def test_no_retry_when_the_wait_exceeds_the_deadline(fake):
    url, state = fake
    sleeps = Sleeps()
    state.failures["ListRunners"] = Failure(1, headers={"retry-after": "5"})
    with pytest.raises(runnerkit.UnavailableError):
        make(url, retry_policy=sleeps.policy(), timeout=2.0).runners.list()
    assert state.calls["ListRunners"] == 1
    assert sleeps.delays == []


def test_facade_methods_have_signatures_and_docs(fake):
    url, _ = fake
    method = make(url).runners.create
    params = inspect.signature(method).parameters
    assert {"name", "provider", "kind", "spec", "runner_manager_id", "timeout"} <= set(params)
    assert "gitpod.v1.RunnerService/CreateRunner" in (method.__doc__ or "")
    assert "runners.create" in repr(method)


def test_async_connection_refused_is_retried_even_for_create():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = Sleeps()

    async def main() -> None:
        client = amake(f"http://127.0.0.1:{port}", retry_policy=sleeps.policy())
        with pytest.raises(runnerkit.UnavailableError):
            await client.runners.create(name="x")

    asyncio.run(main())
    assert sleeps.delays == [0.5, 1.0]
