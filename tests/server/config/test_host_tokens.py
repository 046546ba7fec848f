"""CreateHostAuthenticationToken, GetHostAuthenticationToken, ListHostAuthenticationTokens,
UpdateHostAuthenticationToken, DeleteHostAuthenticationToken."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from connectrpc.code import Code
from google.protobuf import timestamp_pb2

from runnerkit.server.storage import open_store, sqlite_url
from runnerkit_proto.gitpod.v1 import identity_pb2, pagination_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from tests.support.server import db_path, new_group_id

if TYPE_CHECKING:
    from tests.server.config.harness import ConfigApi

OAUTH = rc.HOST_AUTHENTICATION_TOKEN_SOURCE_OAUTH
PAT = rc.HOST_AUTHENTICATION_TOKEN_SOURCE_PAT
USER = identity_pb2.PRINCIPAL_USER
SA = identity_pb2.PRINCIPAL_SERVICE_ACCOUNT
Create = rc.CreateHostAuthenticationTokenRequest


def ts(seconds: int, nanos: int = 0) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def create(capi: ConfigApi, token: str | None = None, **fields: Any) -> Any:
    fields.setdefault("host", "github.com")
    fields.setdefault("token", "gho_secret")
    return capi("create_host_authentication_token", Create(**fields), token).token


def get(capi: ConfigApi, token_id: str, token: str | None = None) -> Any:
    request = rc.GetHostAuthenticationTokenRequest(id=token_id)
    return capi("get_host_authentication_token", request, token).token


def stored(capi: ConfigApi, token_id: str) -> Any:
    store = open_store(sqlite_url(db_path(capi.directory)))
    try:
        return store.get_host_token(token_id)
    finally:
        store.close()


def setup_roles(capi: ConfigApi) -> Any:
    runner_id = capi.new_runner()
    users, admins = new_group_id(), new_group_id()
    capi.grant(runner_id, users, runner_pb2.RUNNER_ROLE_USER)
    capi.grant(runner_id, admins, runner_pb2.RUNNER_ROLE_ADMIN)
    user = capi.user("u", groups=[users])
    admin = capi.user("a", groups=[admins])
    stranger = capi.user("s")
    return runner_id, user, admin, stranger


def test_create_defaults_to_the_caller_and_never_returns_secrets(capi):
    runner_id, (user_id, user), _, _ = setup_roles(capi)
    created = create(
        capi,
        user,
        runner_id=runner_id,
        host="GitHub.com",
        source=OAUTH,
        refresh_token="ghr_refresh",
        expires_at=ts(1_735_689_599, 123_456_000),
        scopes=["repo", "read:user"],
    )
    assert created == rc.HostAuthenticationToken(
        id=created.id,
        runner_id=runner_id,
        user_id=user_id,
        host="github.com",
        source=OAUTH,
        expires_at=ts(1_735_689_599, 123_456_000),
        scopes=["repo", "read:user"],
        subject=identity_pb2.Subject(id=user_id, principal=USER),
    )
    assert get(capi, created.id, user) == created
    record = stored(capi, created.id)
    assert capi.unseal(runner_id, record.token_sealed) == b"gho_secret"
    assert capi.unseal(runner_id, record.refresh_token_sealed) == b"ghr_refresh"
    assert b"gho_secret" not in record.token_sealed


def test_subjects_user_id_alias_and_admin_only_for_others(capi):
    runner_id, (user_id, user), (admin_id, admin), _ = setup_roles(capi)
    sa_id, _ = capi.user("bot", service_account=True)
    denied = Code.PERMISSION_DENIED
    # A USER may not create tokens for someone else, by subject or by user_id.
    for fields in ({"subject": identity_pb2.Subject(id=admin_id)}, {"user_id": admin_id}):
        capi.fails(
            "create_host_authentication_token",
            Create(runner_id=runner_id, host="h.example.com", token="t", **fields),
            denied,
            user,
        )
    # ... not even one that does not exist (permission before existence).
    capi.fails(
        "create_host_authentication_token",
        Create(runner_id=runner_id, host="h.example.com", token="t", user_id=str(uuid.uuid4())),
        denied,
        user,
    )
    # ... but naming themselves is fine.
    own = create(capi, user, runner_id=runner_id, user_id=user_id)
    assert own.subject == identity_pb2.Subject(id=user_id, principal=USER)
    # Runner admins may: user_id is a USER subject; subject may be a service account.
    for_user = create(capi, admin, runner_id=runner_id, host="gitlab.com", user_id=user_id)
    assert (for_user.user_id, for_user.subject.principal) == (user_id, USER)
    for_bot = create(
        capi, admin, runner_id=runner_id, subject=identity_pb2.Subject(id=sa_id, principal=SA)
    )
    assert for_bot.subject == identity_pb2.Subject(id=sa_id, principal=SA)
    assert for_bot.user_id == ""
    invalid = Code.INVALID_ARGUMENT
    bad: list[tuple[dict[str, Any], str]] = [
        ({"user_id": "nope"}, "user_id"),
        ({"subject": identity_pb2.Subject(id="nope")}, "subject.id"),
        ({"subject": identity_pb2.Subject(id=sa_id, principal=USER)}, "subject.principal"),
        (
            {"subject": identity_pb2.Subject(id=sa_id, principal=identity_pb2.PRINCIPAL_RUNNER)},
            "subject.principal",
        ),
        ({"user_id": sa_id}, "subject.principal"),
        ({"subject": identity_pb2.Subject(id=sa_id), "user_id": user_id}, "user_id"),
    ]
    for fields, field in bad:
        message = capi.fails(
            "create_host_authentication_token",
            Create(runner_id=runner_id, host="bitbucket.org", token="t", **fields),
            invalid,
            admin,
        ).message
        assert message.startswith(field), message
    capi.fails(
        "create_host_authentication_token",
        Create(runner_id=runner_id, host="bitbucket.org", token="t", user_id=str(uuid.uuid4())),
        Code.NOT_FOUND,
        admin,
    )


def test_create_validation(capi):
    runner_id = capi.new_runner()
    other = capi.new_runner()
    integration = capi(
        "create_scm_integration",
        rc.CreateSCMIntegrationRequest(runner_id=runner_id, scm_id="github", host="github.com"),
    ).id
    elsewhere = capi(
        "create_scm_integration",
        rc.CreateSCMIntegrationRequest(runner_id=other, scm_id="github", host="github.com"),
    ).id
    invalid = Code.INVALID_ARGUMENT
    cases: list[tuple[dict[str, Any], str]] = [
        ({"runner_id": ""}, "runner_id"),
        ({"runner_id": "x"}, "runner_id"),
        ({"host": ""}, "host"),
        ({"host": "not a host"}, "host"),
        ({"token": ""}, "token"),
        ({"token": "x" * 8193}, "token"),
        ({"source": 7}, "source"),
        ({"scopes": ["s"] * 102}, "scopes"),  # the real API takes up to 101
        ({"scopes": [""]}, "scopes"),
        ({"integration_id": "x"}, "integration_id"),
        ({"integration_id": elsewhere}, "integration_id"),  # another runner
        ({"integration_id": str(uuid.uuid4())}, "integration_id"),
        ({"integration_id": integration, "host": "gitlab.com"}, "integration_id"),  # host
    ]
    if capi.codec == "proto":  # the JSON codec cannot even send an out-of-range timestamp
        cases.append(({"expires_at": ts(253_402_300_800)}, "expires_at"))
    for fields, field in cases:
        request = Create(**{"runner_id": runner_id, "host": "github.com", "token": "t", **fields})
        message = capi.fails("create_host_authentication_token", request, invalid).message
        assert message.startswith(field), (fields, message)
    listed = capi("list_host_authentication_tokens", rc.ListHostAuthenticationTokensRequest())
    assert list(listed.tokens) == []
    linked = create(capi, runner_id=runner_id, scopes=["s"] * 100, integration_id=integration)
    assert linked.integration_id == integration
    message = capi.fails(
        "create_host_authentication_token",
        Create(runner_id=runner_id, host="GITHUB.com:443", token="other"),
        Code.ALREADY_EXISTS,
    ).message
    assert "github.com" in message
    create(capi, runner_id=other)  # the same host and subject on another runner is fine


def test_get_update_delete_permissions(capi):
    runner_id, (_, user), (_, admin), (_, stranger) = setup_roles(capi)
    _, user2 = capi.user("u2", groups=[])
    mine = create(capi, user, runner_id=runner_id).id
    admins = create(capi, admin, runner_id=runner_id).id
    denied, missing = Code.PERMISSION_DENIED, str(uuid.uuid4())
    get(capi, mine, user)
    get(capi, mine, admin)  # runner admins see everyone's
    get(capi, mine)  # org admins too
    capi.fails(
        "get_host_authentication_token",
        rc.GetHostAuthenticationTokenRequest(id=admins),
        denied,
        user,
    )
    for target in (mine, missing):
        for token in (stranger, user2):
            capi.fails(
                "get_host_authentication_token",
                rc.GetHostAuthenticationTokenRequest(id=target),
                denied,
                token,
            )
    capi.fails(
        "update_host_authentication_token",
        rc.UpdateHostAuthenticationTokenRequest(id=admins, token="x"),
        denied,
        user,
    )
    capi.fails(
        "delete_host_authentication_token",
        rc.DeleteHostAuthenticationTokenRequest(id=admins),
        denied,
        user,
    )
    capi(
        "update_host_authentication_token",
        rc.UpdateHostAuthenticationTokenRequest(id=mine, token="x"),
        user,
    )
    capi("delete_host_authentication_token", rc.DeleteHostAuthenticationTokenRequest(id=mine), user)
    capi(
        "delete_host_authentication_token",
        rc.DeleteHostAuthenticationTokenRequest(id=admins),
        admin,
    )
    for method, request in (
        ("get_host_authentication_token", rc.GetHostAuthenticationTokenRequest(id=mine)),
        (
            "update_host_authentication_token",
            rc.UpdateHostAuthenticationTokenRequest(id=mine, token="t"),
        ),
        ("delete_host_authentication_token", rc.DeleteHostAuthenticationTokenRequest(id=mine)),
    ):
        capi.fails(method, request, Code.NOT_FOUND)
        bad = type(request).FromString(request.SerializeToString())
        bad.id = "nope"
        assert capi.fails(method, bad, Code.INVALID_ARGUMENT).message.startswith("id")


def test_update_by_presence(capi):
    runner_id = capi.new_runner()
    created = create(
        capi, runner_id=runner_id, refresh_token="r1", expires_at=ts(2_000_000_000), scopes=["a"]
    )
    update = rc.UpdateHostAuthenticationTokenRequest
    before = stored(capi, created.id)
    capi("update_host_authentication_token", update(id=created.id))
    assert stored(capi, created.id) == before  # nothing present, nothing changed
    capi("update_host_authentication_token", update(id=created.id, token="gho_new"))
    after = stored(capi, created.id)
    assert capi.unseal(runner_id, after.token_sealed) == b"gho_new"
    assert after.refresh_token_sealed == before.refresh_token_sealed
    assert after.updated_at > before.updated_at
    capi(
        "update_host_authentication_token",
        update(id=created.id, expires_at=ts(2_100_000_000, 5_000), scopes=["b", "c"]),
    )
    got = get(capi, created.id)
    assert got.expires_at == ts(2_100_000_000, 5_000)
    assert list(got.scopes) == ["b", "c"]
    capi("update_host_authentication_token", update(id=created.id, refresh_token=""))
    assert stored(capi, created.id).refresh_token_sealed == b""
    cases: list[tuple[dict[str, Any], str]] = [
        ({"token": ""}, "token"),
        ({"scopes": ["x"] * 102}, "scopes"),  # the real API takes up to 101
    ]
    if capi.codec == "proto":
        cases.append(({"expires_at": ts(0, 10**9)}, "expires_at"))
    for fields, field in cases:
        message = capi.fails(
            "update_host_authentication_token",
            update(id=created.id, **fields),
            Code.INVALID_ARGUMENT,
        ).message
        assert message.startswith(field)


def test_list_filters_visibility_and_pagination(capi):
    runner_id, (user_id, user), (admin_id, admin), (_, stranger) = setup_roles(capi)
    other = capi.new_runner()
    hosts = [f"git{i}.example.com" for i in range(4)]
    users_tokens = [create(capi, user, runner_id=runner_id, host=h).id for h in hosts]
    admins_tokens = [create(capi, admin, runner_id=runner_id, host=h).id for h in hosts[:2]]
    org_admin_other = create(capi, runner_id=other).id

    def ids(token: str | None = None, size: int = 0, page: str = "", **flt: Any) -> Any:
        request = rc.ListHostAuthenticationTokensRequest(
            filter=rc.ListHostAuthenticationTokensRequest.Filter(**flt),
            pagination=pagination_pb2.PaginationRequest(page_size=size, token=page),
        )
        response = capi("list_host_authentication_tokens", request, token)
        return [t.id for t in response.tokens], response.pagination.next_token

    everything = users_tokens + admins_tokens + [org_admin_other]
    assert ids()[0] == everything
    assert ids(runner_id=runner_id)[0] == users_tokens + admins_tokens
    assert ids(runner_id=other)[0] == [org_admin_other]
    assert ids(subject_id=user_id)[0] == users_tokens
    assert ids(user_id=admin_id)[0] == admins_tokens
    assert ids(user_id=admin_id, subject_id=user_id)[0] == []
    assert ids(user)[0] == users_tokens  # users see their own
    assert ids(admin)[0] == users_tokens + admins_tokens  # runner admins all of the runner's
    assert ids(stranger)[0] == []
    seen, token = [], ""
    while True:
        page, token = ids(None, 2, token, runner_id=runner_id)
        seen += page
        if not token:
            break
    assert seen == users_tokens + admins_tokens
    _, token = ids(None, 2, "", runner_id=runner_id)
    capi.fails(
        "list_host_authentication_tokens",
        rc.ListHostAuthenticationTokensRequest(
            pagination=pagination_pb2.PaginationRequest(token=token)
        ),
        Code.INVALID_ARGUMENT,
    )
    filters: list[dict[str, Any]] = [{"runner_id": "x"}, {"subject_id": "x"}, {"user_id": ""}]
    for flt in filters:
        message = capi.fails(
            "list_host_authentication_tokens",
            rc.ListHostAuthenticationTokensRequest(
                filter=rc.ListHostAuthenticationTokensRequest.Filter(**flt)
            ),
            Code.INVALID_ARGUMENT,
        ).message
        assert message.startswith("filter.")
