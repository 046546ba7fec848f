"""RunnerService runners and tokens through the generated clients, over all four transports."""

from __future__ import annotations

import sqlite3
import uuid
from typing import TYPE_CHECKING, Any

from connectrpc.code import Code

from runnerkit_proto.gitpod.v1 import identity_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from tests.support.server import create_user, db_path

if TYPE_CHECKING:
    from tests.server.harness import Api

R = runner_pb2
AWS = rc_pb2.RUNNER_PROVIDER_AWS_EC2


def _create(api: Api, token: str | None = None, **fields: Any) -> Any:
    fields.setdefault("name", "runner")
    if "kind" not in fields and "provider" not in fields:
        fields["provider"] = AWS
    return api("create_runner", R.CreateRunnerRequest(**fields), token)


def _get(api: Api, runner_id: str, token: str | None = None) -> Any:
    return api("get_runner", R.GetRunnerRequest(runner_id=runner_id), token).runner


def test_create_runner_returns_runner_with_defaults_and_exchange_token(api):
    response = _create(api, name="my runner", provider=rc_pb2.RUNNER_PROVIDER_GCP)
    runner = response.runner
    uuid.UUID(runner.runner_id)
    assert runner.name == "my runner"
    assert runner.kind == rc_pb2.RUNNER_KIND_REMOTE
    assert runner.provider == rc_pb2.RUNNER_PROVIDER_GCP
    assert runner.spec.desired_phase == R.RUNNER_PHASE_ACTIVE
    assert runner.spec.variant == R.RUNNER_VARIANT_STANDARD
    assert runner.spec.configuration.release_channel == R.RUNNER_RELEASE_CHANNEL_STABLE
    assert runner.status.phase == R.RUNNER_PHASE_CREATED
    assert len(runner.status.public_key) == 32
    assert runner.creator.principal == identity_pb2.PRINCIPAL_USER
    assert runner.created_at == runner.updated_at
    assert runner.created_at.seconds > 0
    assert response.exchange_token.startswith("rkx_")
    assert _get(api, runner.runner_id) == runner


def test_provider_implies_kind(api):
    expected = {
        rc_pb2.RUNNER_PROVIDER_AWS_EC2: rc_pb2.RUNNER_KIND_REMOTE,
        rc_pb2.RUNNER_PROVIDER_GCP: rc_pb2.RUNNER_KIND_REMOTE,
        rc_pb2.RUNNER_PROVIDER_LINUX_HOST: rc_pb2.RUNNER_KIND_LOCAL,
        rc_pb2.RUNNER_PROVIDER_DESKTOP_MAC: rc_pb2.RUNNER_KIND_LOCAL,
        rc_pb2.RUNNER_PROVIDER_DEV_AGENT: rc_pb2.RUNNER_KIND_LOCAL,
    }
    for provider, kind in expected.items():
        assert _create(api, provider=provider).runner.kind == kind
    managed = _create(
        api, provider=rc_pb2.RUNNER_PROVIDER_MANAGED, runner_manager_id=str(uuid.uuid4())
    )
    assert managed.runner.kind == rc_pb2.RUNNER_KIND_REMOTE
    assert managed.runner.runner_manager_id
    by_kind = _create(api, kind=rc_pb2.RUNNER_KIND_REMOTE).runner
    assert by_kind.provider == rc_pb2.RUNNER_PROVIDER_UNSPECIFIED


def test_create_runner_invalid_arguments_name_the_field(api):
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": ""}, "name"),
        ({"name": "x" * 128}, "name"),
        ({"kind": rc_pb2.RUNNER_KIND_REMOTE, "provider": AWS}, "kind"),
        ({"kind": 0, "provider": 0}, "kind"),
        ({"provider": rc_pb2.RUNNER_PROVIDER_MANAGED}, "runner_manager_id"),
        (
            {"provider": rc_pb2.RUNNER_PROVIDER_MANAGED, "runner_manager_id": "nope"},
            "runner_manager_id",
        ),
        ({"runner_manager_id": str(uuid.uuid4())}, "runner_manager_id"),
        ({"provider": 99}, "provider"),
        (
            {
                "spec": R.RunnerSpec(
                    configuration=R.RunnerConfiguration(update_window=R.UpdateWindow(end_hour=3))
                )
            },
            "spec.configuration.update_window.start_hour",
        ),
        (
            {
                "spec": R.RunnerSpec(
                    configuration=R.RunnerConfiguration(update_window=R.UpdateWindow(start_hour=24))
                )
            },
            "spec.configuration.update_window.start_hour",
        ),
        ({"spec": R.RunnerSpec(desired_phase=R.RUNNER_PHASE_DELETED)}, "spec.desired_phase"),
    ]
    for fields, field in cases:
        fields.setdefault("name", "runner")
        if "provider" not in fields and "kind" not in fields:
            fields["provider"] = AWS
        message = api.fails("create_runner", R.CreateRunnerRequest(**fields), Code.INVALID_ARGUMENT)
        assert message.startswith(field + ":"), (fields, message)


def test_update_window_end_defaults_to_start_plus_two(api):
    window = R.UpdateWindow(start_hour=23)
    spec = R.RunnerSpec(configuration=R.RunnerConfiguration(update_window=window))
    runner = _create(api, spec=spec).runner
    assert runner.spec.configuration.update_window.start_hour == 23
    assert runner.spec.configuration.update_window.end_hour == 1


def test_only_one_local_configuration_runner(api):
    _create(api, kind=rc_pb2.RUNNER_KIND_LOCAL_CONFIGURATION)
    message = api.fails(
        "create_runner",
        R.CreateRunnerRequest(name="again", kind=rc_pb2.RUNNER_KIND_LOCAL_CONFIGURATION),
        Code.ALREADY_EXISTS,
    )
    assert "LOCAL_CONFIGURATION" in message


def test_unauthenticated_without_or_with_unknown_token(api):
    for token in ("", "rk_not-a-real-token"):
        api.fails("list_runners", R.ListRunnersRequest(), Code.UNAUTHENTICATED, token=token or " ")


def test_permissions_of_plain_users_creators_and_policy_groups(api):
    group = str(uuid.uuid4())
    _, plain = create_user(api.directory, name="plain")
    _, creator = create_user(api.directory, name="creator", runner_creator=True)
    _, member = create_user(api.directory, name="member", groups=[group])
    api.fails(
        "create_runner",
        R.CreateRunnerRequest(name="xyz", provider=AWS),
        Code.PERMISSION_DENIED,
        plain,
    )
    mine = _create(api, token=creator).runner
    _get(api, mine.runner_id, creator)
    api("update_runner", R.UpdateRunnerRequest(runner_id=mine.runner_id, name="renamed"), creator)
    other = _create(api).runner
    for token in (plain, creator, member):
        api.fails(
            "get_runner",
            R.GetRunnerRequest(runner_id=other.runner_id),
            Code.PERMISSION_DENIED,
            token,
        )
    api(
        "create_runner_policy",
        R.CreateRunnerPolicyRequest(
            runner_id=other.runner_id, group_id=group, role=R.RUNNER_ROLE_USER
        ),
    )
    assert _get(api, other.runner_id, member).runner_id == other.runner_id
    api.fails(
        "update_runner",
        R.UpdateRunnerRequest(runner_id=other.runner_id, name="nope"),
        Code.PERMISSION_DENIED,
        member,
    )
    api.fails(
        "delete_runner",
        R.DeleteRunnerRequest(runner_id=other.runner_id),
        Code.PERMISSION_DENIED,
        member,
    )
    api.fails(
        "create_runner_token",
        R.CreateRunnerTokenRequest(runner_id=other.runner_id),
        Code.PERMISSION_DENIED,
        member,
    )
    listed = api("list_runners", R.ListRunnersRequest(), member).runners
    assert [r.runner_id for r in listed] == [other.runner_id]
    assert [r.runner_id for r in api("list_runners", R.ListRunnersRequest(), plain).runners] == []


def test_permission_is_checked_before_existence(api):
    _, plain = create_user(api.directory, name="plain")
    missing = str(uuid.uuid4())
    api.fails("get_runner", R.GetRunnerRequest(runner_id=missing), Code.PERMISSION_DENIED, plain)
    api.fails("get_runner", R.GetRunnerRequest(runner_id=missing), Code.NOT_FOUND)
    message = api.fails(
        "get_runner", R.GetRunnerRequest(runner_id="not-a-uuid"), Code.INVALID_ARGUMENT, plain
    )
    assert message.startswith("runner_id:")
    assert api.fails("get_runner", R.GetRunnerRequest(), Code.INVALID_ARGUMENT).startswith(
        "runner_id:"
    )


def test_update_changes_only_present_fields(api):
    runner = _create(
        api,
        spec=R.RunnerSpec(
            configuration=R.RunnerConfiguration(region="eu-west-1", auto_update=True)
        ),
    ).runner
    rid = runner.runner_id
    api("update_runner", R.UpdateRunnerRequest(runner_id=rid))
    assert _get(api, rid) == runner  # nothing present: nothing changes, updated_at stays
    config = R.UpdateRunnerRequest.RunnerConfiguration(
        log_level=R.LOG_LEVEL_DEBUG,
        update_window=R.UpdateWindow(start_hour=2, end_hour=6),
        metrics=R.UpdateRunnerRequest.MetricsConfiguration(enabled=True, url="https://m.example"),
    )
    api(
        "update_runner",
        R.UpdateRunnerRequest(runner_id=rid, spec=R.UpdateRunnerRequest.Spec(configuration=config)),
    )
    after = _get(api, rid)
    assert after.name == runner.name
    assert after.spec.configuration.region == "eu-west-1"
    assert after.spec.configuration.auto_update is True
    assert after.spec.configuration.log_level == R.LOG_LEVEL_DEBUG
    assert after.spec.configuration.update_window == R.UpdateWindow(start_hour=2, end_hour=6)
    assert after.spec.configuration.metrics.url == "https://m.example"
    assert after.updated_at.ToMicroseconds() > runner.updated_at.ToMicroseconds()
    # the same update again changes nothing
    api(
        "update_runner",
        R.UpdateRunnerRequest(runner_id=rid, spec=R.UpdateRunnerRequest.Spec(configuration=config)),
    )
    assert _get(api, rid) == after
    # an empty window clears it
    clear = R.UpdateRunnerRequest.RunnerConfiguration(update_window=R.UpdateWindow())
    api(
        "update_runner",
        R.UpdateRunnerRequest(runner_id=rid, spec=R.UpdateRunnerRequest.Spec(configuration=clear)),
    )
    assert not _get(api, rid).spec.configuration.HasField("update_window")


def test_update_secrets_are_sealed_never_returned(api):
    rid = _create(api).runner.runner_id
    config = R.UpdateRunnerRequest.RunnerConfiguration(
        honeycomb_api_key="hc-secret-value",
        metrics=R.UpdateRunnerRequest.MetricsConfiguration(password="metrics-secret"),
    )
    api(
        "update_runner",
        R.UpdateRunnerRequest(runner_id=rid, spec=R.UpdateRunnerRequest.Spec(configuration=config)),
    )
    runner = _get(api, rid)
    sealed = runner.spec.configuration.encrypted_honeycomb_api_key
    assert len(sealed) == len("hc-secret-value") + 48  # sealed box overhead
    assert runner.spec.configuration.metrics.password == ""
    again = _get(api, rid)
    api(
        "update_runner",
        R.UpdateRunnerRequest(runner_id=rid, spec=R.UpdateRunnerRequest.Spec(configuration=config)),
    )
    assert _get(api, rid).updated_at == again.updated_at  # same secrets: no change


def test_desired_phase_only_on_local_configuration(api):
    remote = _create(api).runner.runner_id
    spec = R.UpdateRunnerRequest.Spec(desired_phase=R.RUNNER_PHASE_INACTIVE)
    message = api.fails(
        "update_runner", R.UpdateRunnerRequest(runner_id=remote, spec=spec), Code.INVALID_ARGUMENT
    )
    assert message.startswith("spec.desired_phase:")
    switch = _create(api, kind=rc_pb2.RUNNER_KIND_LOCAL_CONFIGURATION).runner.runner_id
    api("update_runner", R.UpdateRunnerRequest(runner_id=switch, spec=spec))
    assert _get(api, switch).spec.desired_phase == R.RUNNER_PHASE_INACTIVE
    bad = R.UpdateRunnerRequest.Spec(desired_phase=R.RUNNER_PHASE_DELETED)
    api.fails(
        "update_runner", R.UpdateRunnerRequest(runner_id=switch, spec=bad), Code.INVALID_ARGUMENT
    )


def test_update_invalid_and_missing(api):
    rid = _create(api).runner.runner_id
    assert api.fails(
        "update_runner", R.UpdateRunnerRequest(runner_id=rid, name=""), Code.INVALID_ARGUMENT
    ).startswith("name:")
    api.fails(
        "update_runner",
        R.UpdateRunnerRequest(runner_id=str(uuid.uuid4()), name="xyz"),
        Code.NOT_FOUND,
    )


def test_runner_and_logs_tokens(api):
    rid = _create(api).runner.runner_id
    first = api("create_runner_token", R.CreateRunnerTokenRequest(runner_id=rid)).exchange_token
    second = api("create_runner_token", R.CreateRunnerTokenRequest(runner_id=rid)).exchange_token
    logs = api(
        "create_runner_logs_token", R.CreateRunnerLogsTokenRequest(runner_id=rid)
    ).access_token
    assert first.startswith("rkx_")
    assert second.startswith("rkx_")
    assert first != second
    assert logs.startswith("rkl_")
    with sqlite3.connect(db_path(api.directory)) as conn:
        rows = conn.execute(
            "SELECT purpose, expires_at - created_at, used_at FROM runner_tokens WHERE runner_id = ?",
            (rid,),
        ).fetchall()
    hour = 3600 * 1_000_000
    assert sorted(rows) == [("exchange", 24 * hour, None)] * 3 + [("logs", hour, None)]
    api.fails(
        "create_runner_token",
        R.CreateRunnerTokenRequest(runner_id=str(uuid.uuid4())),
        Code.NOT_FOUND,
    )
    api.fails(
        "create_runner_logs_token",
        R.CreateRunnerLogsTokenRequest(runner_id="x"),
        Code.INVALID_ARGUMENT,
    )


def test_delete_cascades(api):
    rid = _create(api).runner.runner_id
    keep = _create(api).runner.runner_id
    for runner_id in (rid, keep):
        api("create_runner_token", R.CreateRunnerTokenRequest(runner_id=runner_id))
        api(
            "create_runner_policy",
            R.CreateRunnerPolicyRequest(
                runner_id=runner_id, group_id=str(uuid.uuid4()), role=R.RUNNER_ROLE_ADMIN
            ),
        )
    api("delete_runner", R.DeleteRunnerRequest(runner_id=rid, force=True))
    api.fails("get_runner", R.GetRunnerRequest(runner_id=rid), Code.NOT_FOUND)
    api.fails("delete_runner", R.DeleteRunnerRequest(runner_id=rid), Code.NOT_FOUND)
    with sqlite3.connect(db_path(api.directory)) as conn:
        for table in ("runner_tokens", "runner_policies"):
            rows = conn.execute(f"SELECT runner_id FROM {table}").fetchall()
            assert {r[0] for r in rows} == {keep}, table
    assert _get(api, keep).runner_id == keep
