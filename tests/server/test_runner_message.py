"""``fill_runner``/``runner_message``: the API's view of a stored runner, field by field."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runnerkit.server.service.runners import fill_runner, runner_message, runner_view_bytes
from runnerkit.server.storage.records import RunnerRecord
from runnerkit_proto.gitpod.v1 import identity_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2

# Microseconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.
MIN_MICROS = -62_135_596_800 * 1_000_000
MAX_MICROS = 253_402_300_799 * 1_000_000 + 999_999


def reference(record: RunnerRecord) -> runner_pb2.Runner:
    """The view built the plain way: constructor, present sub-messages, FromMicroseconds."""
    runner = runner_pb2.Runner(
        runner_id=record.id,
        name=record.name,
        kind=record.kind,  # type: ignore[arg-type]
        provider=record.provider,  # type: ignore[arg-type]
        runner_manager_id=record.runner_manager_id,
        creator=identity_pb2.Subject(id=record.creator_id, principal=record.creator_principal),  # type: ignore[arg-type]
        spec=runner_pb2.RunnerSpec.FromString(record.spec),
    )
    runner.status.MergeFrom(runner_pb2.RunnerStatus.FromString(record.status))
    runner.status.public_key = record.public_key
    runner.created_at.FromMicroseconds(record.created_at)
    runner.updated_at.FromMicroseconds(record.updated_at)
    return runner


def _spec(region: str, password: bytes, phase: int) -> bytes:
    spec = runner_pb2.RunnerSpec(desired_phase=phase)  # type: ignore[arg-type]
    if region:
        spec.configuration.region = region
    if password:
        spec.configuration.metrics.enabled = True
        spec.configuration.metrics.password = password.hex()
    return spec.SerializeToString(deterministic=True)


def _status(message: str, key: bytes, updated: int, additional: int) -> bytes:
    status = runner_pb2.RunnerStatus(message=message, public_key=key)
    if updated:
        status.updated_at.FromMicroseconds(updated)
    for i in range(additional):
        status.additional_info.add(key=f"k{i}", value="ü" * i)
    return status.SerializeToString(deterministic=True)


times = st.one_of(
    st.sampled_from([0, 1, -1, 999_999, 1_000_000, MIN_MICROS, MAX_MICROS]),
    st.integers(MIN_MICROS, MAX_MICROS),
)
texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)
records = st.builds(
    RunnerRecord,
    id=st.one_of(st.just(""), st.uuids().map(str)),
    name=texts,
    kind=st.sampled_from(list(rc_pb2.RunnerKind.values())),
    provider=st.sampled_from(list(rc_pb2.RunnerProvider.values())),
    runner_manager_id=st.one_of(st.just(""), st.uuids().map(str)),
    creator_id=st.one_of(st.just(""), st.uuids().map(str)),
    creator_principal=st.sampled_from(list(identity_pb2.Principal.values())),
    spec=st.builds(_spec, texts, st.binary(max_size=16), st.sampled_from([0, 1, 2])),
    status=st.builds(_status, texts, st.binary(max_size=32), times, st.integers(0, 3)),
    public_key=st.one_of(st.just(b""), st.binary(min_size=32, max_size=32)),
    wrapped_private_key=st.binary(max_size=8),
    created_at=times,
    updated_at=times,
    metrics_password_sealed=st.binary(max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(records)
def test_the_view_equals_the_plainly_built_message(record: RunnerRecord):
    expected = reference(record)
    built = runner_message(record)
    assert built == expected
    assert built.SerializeToString(deterministic=True) == expected.SerializeToString(
        deterministic=True
    )
    for name in ("creator", "spec", "status", "created_at", "updated_at"):
        assert built.HasField(name), name  # present even when empty
    assert built.status.public_key == record.public_key  # the column, not the stored status


def test_a_response_field_is_filled_in_place():
    record = RunnerRecord(
        id=str(uuid.UUID(int=1)),
        name="ränner",
        kind=rc_pb2.RUNNER_KIND_REMOTE,
        provider=rc_pb2.RUNNER_PROVIDER_AWS_EC2,
        runner_manager_id="",
        creator_id=str(uuid.UUID(int=2)),
        creator_principal=identity_pb2.PRINCIPAL_USER,
        spec=b"",
        status=_status("", b"s" * 32, 0, 0),  # a stale key: the column's wins
        public_key=b"k" * 32,
        wrapped_private_key=b"w",
        created_at=1_700_000_000_123_456,
        updated_at=1_700_000_001_000_000,
    )
    response = runner_pb2.ListRunnersResponse()
    fill_runner(response.runners.add(), record)
    fill_runner(response.runners.add(), record)
    assert list(response.runners) == [reference(record)] * 2
    runner = response.runners[0]
    assert (runner.created_at.seconds, runner.created_at.nanos) == (1_700_000_000, 123_456_000)
    assert (runner.updated_at.seconds, runner.updated_at.nanos) == (1_700_000_001, 0)
    assert runner.status.public_key == b"k" * 32
    assert runner.HasField("spec")
    assert not response.HasField("pagination")


@pytest.mark.parametrize("micros", [MIN_MICROS - 1, MAX_MICROS + 1])
def test_a_time_out_of_the_timestamp_range_is_refused_as_from_microseconds_does(micros: int):
    record = RunnerRecord(
        id="x",
        name="x",
        kind=0,
        provider=0,
        runner_manager_id="",
        creator_id="",
        creator_principal=0,
        spec=b"",
        status=b"",
        public_key=b"",
        wrapped_private_key=b"",
        created_at=0,
        updated_at=micros,
    )
    with pytest.raises(ValueError, match="Timestamp is not valid") as ours:
        runner_message(record)
    with pytest.raises(ValueError, match="Timestamp is not valid") as theirs:
        reference(record)
    assert str(ours.value) == str(theirs.value)


@settings(max_examples=200, deadline=None)
@given(records)
def test_a_page_merged_from_the_memoised_views_equals_one_filled_in_place(record: RunnerRecord):
    other = record._replace(name=record.name + "x")  # one column apart: its own view
    filled, merged = runner_pb2.ListRunnersResponse(), runner_pb2.ListRunnersResponse()
    for item in (record, other, record):
        fill_runner(filled.runners.add(), item)
        merged.runners.add().MergeFromString(runner_view_bytes(item))
    assert merged == filled
    assert merged.SerializeToString() == filled.SerializeToString()
    for runner in merged.runners:
        for name in ("creator", "spec", "status", "created_at", "updated_at"):
            assert runner.HasField(name), name  # presence survives the bytes
    assert merged.runners[1].name == record.name + "x"


def test_the_memoised_view_follows_every_change_of_the_record():
    base = RunnerRecord(
        id=str(uuid.UUID(int=3)),
        name="before",
        kind=rc_pb2.RUNNER_KIND_REMOTE,
        provider=rc_pb2.RUNNER_PROVIDER_AWS_EC2,
        runner_manager_id="",
        creator_id=str(uuid.UUID(int=4)),
        creator_principal=identity_pb2.PRINCIPAL_USER,
        spec=_spec("eu-1", b"", 1),
        status=_status("ok", b"", 0, 0),
        public_key=b"k" * 32,
        wrapped_private_key=b"w",
        created_at=1_700_000_000_000_000,
        updated_at=1_700_000_000_000_000,
    )
    assert runner_view_bytes(base) == runner_message(base).SerializeToString()
    changes: dict[str, Any] = {
        "name": "after",
        "spec": _spec("us-2", b"", 2),
        "status": _status("degraded", b"", 5, 1),
        "public_key": b"n" * 32,
        "updated_at": base.updated_at + 1,
    }
    for column, value in changes.items():
        changed = base._replace(**{column: value})
        view = runner_pb2.Runner.FromString(runner_view_bytes(changed))
        assert view == runner_message(changed), column
        assert view != runner_message(base), column


def test_a_time_out_of_range_is_refused_by_the_memoised_view_every_time():
    bad = RunnerRecord(
        id="x",
        name="x",
        kind=0,
        provider=0,
        runner_manager_id="",
        creator_id="",
        creator_principal=0,
        spec=b"",
        status=b"",
        public_key=b"",
        wrapped_private_key=b"",
        created_at=0,
        updated_at=MAX_MICROS + 1,
    )
    for _ in range(2):
        with pytest.raises(ValueError, match="Timestamp is not valid"):
            runner_view_bytes(bad)
