"""CreateEnvironmentClass, GetEnvironmentClass, ListEnvironmentClasses, UpdateEnvironmentClass."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from connectrpc.code import Code

from runnerkit.server.domain.config_schema import schema_for
from runnerkit.server.domain.validation import validate_environment_class
from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from tests.server.config.harness import AWS
from tests.support.server import new_group_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tests.server.config.harness import ConfigApi

GCP = rc.RUNNER_PROVIDER_GCP


def fv(key: str, value: str) -> rc.FieldValue:
    return rc.FieldValue(key=key, value=value)


def create(
    capi: ConfigApi,
    runner_id: str,
    name: str = "Large",
    config: Sequence[rc.FieldValue] = (),
    *,
    token: str | None = None,
    description: str = "A class",
) -> Any:
    request = rc.CreateEnvironmentClassRequest(
        runner_id=runner_id, display_name=name, description=description, configuration=config
    )
    return capi("create_environment_class", request, token).id


def get(capi: ConfigApi, class_id: str, token: str | None = None) -> Any:
    request = rc.GetEnvironmentClassRequest(environment_class_id=class_id)
    return capi("get_environment_class", request, token).environment_class


def test_create_get_defaults_and_round_trip(capi):
    runner_id = capi.new_runner()
    config = [fv("cpu", "8"), fv("memory", "16384"), fv("instance_type", "m6i.2xlarge")]
    class_id = create(capi, runner_id, "Large Instance", config, description="8 CPU, 16GB RAM")
    assert str(uuid.UUID(class_id)) == class_id
    got = get(capi, class_id)
    assert got == rc.EnvironmentClass(
        id=class_id,
        runner_id=runner_id,
        display_name="Large Instance",
        description="8 CPU, 16GB RAM",
        configuration=config,
        enabled=True,
    )


INVALID_CREATES = [
    # (display_name, description, configuration) -> validator result, checked as a whole.
    # Display names and descriptions out of the schema's bounds never reach the validator on
    # Create (the request rules answer first): see test_text_rules_on_create_and_validate.
    pytest.param("okay", "A class", [fv("nope", "1")], id="unknown-key"),
    pytest.param("okay", "A class", [fv("cpu", "1"), fv("cpu", "2")], id="duplicate-key"),
    pytest.param("okay", "A class", [fv("cpu", "0")], id="int-below-min"),
    pytest.param("okay", "A class", [fv("cpu", "65")], id="int-above-max"),
    pytest.param("okay", "A class", [fv("memory", "lots")], id="int-not-a-number"),
    pytest.param("okay", "A class", [fv("spot", "yes")], id="bool-not-true-false"),
    pytest.param("okay", "A class", [fv("instance_type", "t2.nano")], id="enum-unknown-value"),
    pytest.param("okay", "A class", [fv("ami_id", "not-an-ami")], id="string-pattern"),
    pytest.param("okay", "A class", [fv("billing", "x")], id="display-field-set"),
    pytest.param("okay", "A class", [fv("", "x")], id="empty-key"),
    pytest.param("okay", "A class", [fv("cpu", "0"), fv("x", "y")], id="several-at-once"),
]


@pytest.mark.parametrize(("name", "description", "config"), INVALID_CREATES)
def test_create_rejects_with_the_validators_per_field_errors(capi, name, description, config):
    runner_id = capi.new_runner()
    expected = validate_environment_class(
        schema_for(AWS), display_name=name, description=description, configuration=config
    )
    assert not expected.valid
    request = rc.CreateEnvironmentClassRequest(
        runner_id=runner_id, display_name=name, description=description, configuration=config
    )
    error = capi.fails("create_environment_class", request, Code.INVALID_ARGUMENT)
    assert error.message.startswith("invalid environment class: ")
    if expected.HasField("display_name_error"):
        assert f"display_name: {expected.display_name_error}" in error.message
    for problem in expected.configuration_errors:
        assert problem.error in error.message
        if problem.key:
            assert f"configuration[{problem.key}]" in error.message
    [detail] = error.details
    assert detail.type_name == "gitpod.v1.EnvironmentClassValidationResult"
    assert rc.EnvironmentClassValidationResult.FromString(detail.message_bytes) == expected
    # Validate answers the very same result, as a result.
    answer = capi(
        "validate_runner_configuration",
        rc.ValidateRunnerConfigurationRequest(
            runner_id=runner_id,
            environment_class=rc.EnvironmentClass(
                display_name=name, description=description, configuration=config
            ),
        ),
    )
    assert answer.environment_class == expected
    # Nothing was stored.
    listed = capi("list_environment_classes", rc.ListEnvironmentClassesRequest())
    assert list(listed.environment_classes) == []


@pytest.mark.parametrize(
    ("name", "description", "fields"),
    [
        pytest.param("", "A class", {"display_name"}, id="display-name-missing"),
        pytest.param("ab", "A class", {"display_name"}, id="display-name-2-chars"),
        pytest.param("x" * 128, "A class", {"display_name"}, id="display-name-too-long"),
        pytest.param("okay", "", {"description"}, id="description-missing"),
        pytest.param("okay", "d" * 201, {"description"}, id="description-too-long"),
        pytest.param("", "d", {"display_name", "description"}, id="both"),
    ],
)
def test_text_rules_on_create_and_validate(capi, name, description, fields):
    runner_id = capi.new_runner()
    request = rc.CreateEnvironmentClassRequest(
        runner_id=runner_id, display_name=name, description=description
    )
    error = capi.fails("create_environment_class", request, Code.INVALID_ARGUMENT)
    [detail] = error.details
    assert detail.type_name == "buf.validate.Violations"
    for field in fields:
        assert f"{field}: must be " in error.message
    # Validate reports the same rules as a result, never as an error.
    answer = capi(
        "validate_runner_configuration",
        rc.ValidateRunnerConfigurationRequest(
            runner_id=runner_id,
            environment_class=rc.EnvironmentClass(display_name=name, description=description),
        ),
    ).environment_class
    assert not answer.valid
    assert {f for f in ("display_name", "description") if answer.HasField(f"{f}_error")} == fields
    if "display_name" in fields:
        assert answer.display_name_error.startswith("display_name must be ")


def test_display_fields_accept_their_own_text(capi):
    runner_id = capi.new_runner()
    schema = schema_for(AWS)
    [shown] = [f for f in schema.environment_classes if f.WhichOneof("type") == "display"][:1]
    config = [fv(shown.id, shown.display.default)]
    class_id = create(capi, runner_id, "Echoed", config)
    assert list(get(capi, class_id).configuration) == config
    request = rc.CreateEnvironmentClassRequest(
        runner_id=runner_id,
        display_name="Edited",
        description="A class",
        configuration=[fv(shown.id, shown.display.default + " (edited)")],
    )
    error = capi.fails("create_environment_class", request, Code.INVALID_ARGUMENT)
    assert f"configuration[{shown.id}]" in error.message


def test_required_runner_and_ids(capi):
    message = capi.fails(
        "create_environment_class",
        rc.CreateEnvironmentClassRequest(display_name="xyz"),
        Code.INVALID_ARGUMENT,
    ).message
    assert "runner_id" in message
    for bad in ("", "nope", "d2c94c27-3b76-4a42-b88c-95a85e392c6"):
        message = capi.fails(
            "get_environment_class",
            rc.GetEnvironmentClassRequest(environment_class_id=bad),
            Code.INVALID_ARGUMENT,
        ).message
        assert message.startswith("environment_class_id")
    missing = str(uuid.uuid4())
    capi.fails(
        "get_environment_class",
        rc.GetEnvironmentClassRequest(environment_class_id=missing),
        Code.NOT_FOUND,
    )
    capi.fails(
        "update_environment_class",
        rc.UpdateEnvironmentClassRequest(environment_class_id=missing, enabled=False),
        Code.NOT_FOUND,
    )
    capi.fails(
        "create_environment_class",
        rc.CreateEnvironmentClassRequest(
            runner_id=missing, display_name="xyz", description="A class"
        ),
        Code.NOT_FOUND,
    )


def test_permissions(capi):
    runner_id = capi.new_runner()
    users, admins = new_group_id(), new_group_id()
    capi.grant(runner_id, users, runner_pb2.RUNNER_ROLE_USER)
    capi.grant(runner_id, admins, runner_pb2.RUNNER_ROLE_ADMIN)
    _, user = capi.user("u", groups=[users])
    _, admin = capi.user("a", groups=[admins])
    _, stranger = capi.user("s")
    class_id = create(capi, runner_id, "by-admin", token=admin)
    denied = Code.PERMISSION_DENIED
    # USER reads but does not manage.
    assert get(capi, class_id, user).display_name == "by-admin"
    request = rc.CreateEnvironmentClassRequest(
        runner_id=runner_id, display_name="xyz", description="A class"
    )
    capi.fails("create_environment_class", request, denied, user)
    update = rc.UpdateEnvironmentClassRequest(environment_class_id=class_id, enabled=False)
    capi.fails("update_environment_class", update, denied, user)
    capi("update_environment_class", update, admin)
    # Strangers get permission_denied, even for ids that do not exist (permission first).
    capi.fails("create_environment_class", request, denied, stranger)
    for target in (class_id, str(uuid.uuid4())):
        capi.fails(
            "get_environment_class",
            rc.GetEnvironmentClassRequest(environment_class_id=target),
            denied,
            stranger,
        )
    # Permission before the configuration check: an invalid class (its configuration; the
    # request rules come first) from a USER is still permission_denied.
    bad = rc.CreateEnvironmentClassRequest(
        runner_id=runner_id,
        display_name="xyz",
        description="A class",
        configuration=[fv("nope", "1")],
    )
    capi.fails("create_environment_class", bad, denied, user)
    # Lists leave out what the caller may not see.
    listed = capi("list_environment_classes", rc.ListEnvironmentClassesRequest(), stranger)
    assert list(listed.environment_classes) == []
    listed = capi("list_environment_classes", rc.ListEnvironmentClassesRequest(), user)
    assert [c.id for c in listed.environment_classes] == [class_id]


def test_update_by_presence_and_validation(capi):
    runner_id = capi.new_runner()
    class_id = create(capi, runner_id, "Large", [fv("cpu", "8")], description="8 CPU")
    update = rc.UpdateEnvironmentClassRequest
    capi("update_environment_class", update(environment_class_id=class_id, display_name="Large"))
    got = get(capi, class_id)
    assert (got.display_name, got.description, got.enabled) == ("Large", "8 CPU", True)
    capi("update_environment_class", update(environment_class_id=class_id, description="Big"))
    capi("update_environment_class", update(environment_class_id=class_id, enabled=False))
    got = get(capi, class_id)
    assert (got.display_name, got.description, got.enabled) == ("Large", "Big", False)
    assert list(got.configuration) == [fv("cpu", "8")]
    # An update with nothing in it changes nothing and succeeds.
    capi("update_environment_class", update(environment_class_id=class_id))
    assert get(capi, class_id) == got
    # The schema's rules: a present display name or description must be 3-127 / 3-200.
    for change in ({"display_name": " "}, {"description": ""}, {"description": "d" * 201}):
        error = capi.fails(
            "update_environment_class",
            update(environment_class_id=class_id, enabled=True, **change),
            Code.INVALID_ARGUMENT,
        )
        [field] = change
        assert error.message.startswith(f"{field}: must be ")
        [detail] = error.details
        assert detail.type_name == "buf.validate.Violations"
    assert get(capi, class_id) == got  # the failed updates changed nothing


def _request(size: int = 0, page: str = "", **filters: Any) -> Any:
    return rc.ListEnvironmentClassesRequest(
        filter=rc.ListEnvironmentClassesRequest.Filter(**filters),
        pagination=pagination_pb2.PaginationRequest(page_size=size, token=page),
    )


def _list(
    capi: ConfigApi, token: str | None = None, size: int = 0, page: str = "", **filters: Any
) -> Any:
    return capi("list_environment_classes", _request(size, page, **filters), token)


def _ids(response: Any) -> list[str]:
    return [c.id for c in response.environment_classes]


def test_list_filters(capi):
    aws, gcp = capi.new_runner(AWS), capi.new_runner(GCP)
    local = capi.new_runner(rc.RUNNER_PROVIDER_DEV_AGENT)
    a1, a2 = create(capi, aws, "aws1"), create(capi, aws, "aws2")
    g1, l1 = create(capi, gcp, "gcp1"), create(capi, local, "loc1")
    capi(
        "update_environment_class",
        rc.UpdateEnvironmentClassRequest(environment_class_id=a2, enabled=False),
    )
    assert _ids(_list(capi)) == [a1, a2, g1, l1]
    assert _ids(_list(capi, runner_ids=[aws])) == [a1, a2]
    assert _ids(_list(capi, runner_ids=[aws, gcp])) == [a1, a2, g1]
    assert _ids(_list(capi, runner_kinds=[rc.RUNNER_KIND_REMOTE])) == [a1, a2, g1]
    assert _ids(_list(capi, runner_kinds=[rc.RUNNER_KIND_LOCAL])) == [l1]
    assert _ids(_list(capi, runner_providers=[GCP, rc.RUNNER_PROVIDER_DEV_AGENT])) == [g1, l1]
    assert _ids(_list(capi, enabled=True)) == [a1, g1, l1]
    assert _ids(_list(capi, enabled=False)) == [a2]
    assert _ids(_list(capi, enabled=False, runner_ids=[gcp])) == []
    assert _ids(_list(capi, can_create_environments=True)) == [a1, g1, l1]
    assert _ids(_list(capi, can_create_environments=False)) == [a2]
    assert _ids(_list(capi, can_create_environments=True, enabled=False)) == []
    # can_create_environments accounts for the caller: a USER of the AWS runner only.
    group = new_group_id()
    capi.grant(aws, group, runner_pb2.RUNNER_ROLE_USER)
    _, user = capi.user("u", groups=[group])
    assert _ids(_list(capi, user, can_create_environments=True)) == [a1]
    assert _ids(_list(capi, user, runner_ids=[gcp])) == []
    for bad in (
        {"runner_ids": ["nope"]},
        {"runner_kinds": [99]},
        {"runner_kinds": [0]},
        {"runner_providers": [42]},
    ):
        message = capi.fails(
            "list_environment_classes",
            rc.ListEnvironmentClassesRequest(filter=rc.ListEnvironmentClassesRequest.Filter(**bad)),
            Code.INVALID_ARGUMENT,
        ).message
        assert message.startswith("filter.")


def test_pagination(capi):
    runner_id, other = capi.new_runner(), capi.new_runner(GCP)
    ids = [create(capi, runner_id, f"class{i}") for i in range(7)]
    create(capi, other, "elsewhere")
    seen, token = [], ""
    while True:
        page = _list(capi, size=3, page=token, runner_ids=[runner_id])
        assert len(page.environment_classes) <= 3
        seen += _ids(page)
        token = page.pagination.next_token
        if not token:
            break
    assert seen == ids
    first = _list(capi, size=3, runner_ids=[runner_id])
    # A token is bound to its filter and RPC; altered tokens are rejected.
    for request in (
        rc.ListEnvironmentClassesRequest(
            pagination=pagination_pb2.PaginationRequest(token=first.pagination.next_token)
        ),
        rc.ListEnvironmentClassesRequest(
            filter=rc.ListEnvironmentClassesRequest.Filter(runner_ids=[runner_id]),
            pagination=pagination_pb2.PaginationRequest(
                token=first.pagination.next_token[:-2] + "AA"
            ),
        ),
    ):
        message = capi.fails("list_environment_classes", request, Code.INVALID_ARGUMENT).message
        assert message.startswith("pagination.token")
    scm_list = rc.ListSCMIntegrationsRequest(
        pagination=pagination_pb2.PaginationRequest(token=first.pagination.next_token)
    )
    capi.fails("list_scm_integrations", scm_list, Code.INVALID_ARGUMENT)
    negative = rc.ListEnvironmentClassesRequest(
        pagination=pagination_pb2.PaginationRequest(page_size=-1)
    )
    assert (
        "page_size"
        in capi.fails("list_environment_classes", negative, Code.INVALID_ARGUMENT).message
    )


def test_page_size_default_and_limit(capi_proto):
    capi = capi_proto
    runner_id = capi.new_runner()
    for i in range(101):
        create(capi, runner_id, f"class{i}")
    assert len(_list(capi).environment_classes) == 25
    assert _list(capi).pagination.next_token
    full = _list(capi, size=100)
    assert len(full.environment_classes) == 100
    rest = _list(capi, size=100, page=full.pagination.next_token)
    assert len(rest.environment_classes) == 1
    assert not rest.pagination.next_token
    # Over 100 is an error (the schema's rule), as in the real API; it used to be capped.
    error = capi.fails("list_environment_classes", _request(size=101), Code.INVALID_ARGUMENT)
    assert error.message.startswith("pagination.page_size: ")
