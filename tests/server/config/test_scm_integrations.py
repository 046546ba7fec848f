"""CreateSCMIntegration, GetSCMIntegration, ListSCMIntegrations, UpdateSCMIntegration,
DeleteSCMIntegration."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from connectrpc.code import Code

from runnerkit.server.domain.config_schema import schema_for
from runnerkit.server.domain.validation import validate_scm_integration
from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from tests.server.config.harness import AWS
from tests.support.server import new_group_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tests.server.config.harness import ConfigApi

OAUTH = rc.HOST_AUTHENTICATION_TOKEN_SOURCE_OAUTH
PAT = rc.HOST_AUTHENTICATION_TOKEN_SOURCE_PAT


def create(capi: ConfigApi, runner_id: str, token: str | None = None, **fields: Any) -> Any:
    fields.setdefault("scm_id", "github")
    fields.setdefault("host", "github.com")
    request = rc.CreateSCMIntegrationRequest(runner_id=runner_id, **fields)
    return capi("create_scm_integration", request, token).id


def get(capi: ConfigApi, integration_id: str, token: str | None = None) -> Any:
    request = rc.GetSCMIntegrationRequest(id=integration_id)
    return capi("get_scm_integration", request, token).integration


def host_token(
    capi: ConfigApi, runner_id: str, host: str, source: Any, token: str | None = None
) -> Any:
    request = rc.CreateHostAuthenticationTokenRequest(
        runner_id=runner_id, host=host, token="t", source=source
    )
    return capi("create_host_authentication_token", request, token).token.id


def token_ids(capi: ConfigApi) -> set[str]:
    listed = capi("list_host_authentication_tokens", rc.ListHostAuthenticationTokensRequest())
    return {t.id for t in listed.tokens}


def test_create_get_and_sealed_secret(capi):
    runner_id = capi.new_runner()
    integration_id = create(
        capi,
        runner_id,
        oauth_client_id="client_id",
        oauth_plaintext_client_secret="client_secret",
        pat=True,
    )
    got = get(capi, integration_id)
    assert (got.id, got.runner_id, got.scm_id, got.host, got.pat) == (
        integration_id,
        runner_id,
        "github",
        "github.com",
        True,
    )
    assert got.oauth.client_id == "client_id"
    assert not got.HasField("virtual_directory")
    sealed = got.oauth.encrypted_client_secret
    assert b"client_secret" not in sealed
    assert len(sealed) == 48 + len("client_secret")  # ephemeral key + MAC + ciphertext
    assert capi.unseal(runner_id, sealed) == b"client_secret"
    # Each call to Get returns the same stored box; a new secret gives a new box.
    assert get(capi, integration_id).oauth.encrypted_client_secret == sealed


def test_optional_fields_round_trip(capi):
    runner_id = capi.new_runner()
    azure = create(
        capi,
        runner_id,
        scm_id="azuredevops",
        host="tfs.example.com",
        virtual_directory="/tfs",
        pat=True,
    )
    got = get(capi, azure)
    assert got.virtual_directory == "/tfs"
    assert not got.HasField("oauth")
    gitlab = create(
        capi,
        runner_id,
        scm_id="gitlab",
        host="GitLab.Example.com:443",
        oauth_client_id="id",
        oauth_plaintext_client_secret="s",
        issuer_url="https://sso.example.com",
    )
    got = get(capi, gitlab)
    assert got.host == "gitlab.example.com"  # stored normalised
    assert got.oauth.issuer_url == "https://sso.example.com"


def test_one_per_runner_and_host(capi):
    runner_id, other = capi.new_runner(), capi.new_runner()
    create(capi, runner_id, host="git.example.com")
    for same in ("git.example.com", "GIT.example.com", "git.example.com:443"):
        message = capi.fails(
            "create_scm_integration",
            rc.CreateSCMIntegrationRequest(runner_id=runner_id, scm_id="gitlab", host=same),
            Code.ALREADY_EXISTS,
        ).message
        assert "git.example.com" in message
    create(capi, runner_id, host="git.example.com:8443")  # another port is another host
    create(capi, other, host="git.example.com")  # another runner


INVALID = [
    pytest.param({"scm_id": ""}, id="scm-id-missing"),
    pytest.param({"scm_id": "svn"}, id="scm-id-unknown"),
    pytest.param({"host": ""}, id="host-missing"),
    pytest.param({"host": "https://github.com/org"}, id="host-with-scheme"),
    pytest.param({"host": "bad_host!"}, id="host-invalid"),
    pytest.param({"host": "gitlab.com"}, id="host-of-another-scm"),
    pytest.param({"host": "g.example.com", "virtual_directory": "/tfs"}, id="vdir-not-azure"),
    pytest.param(
        {"scm_id": "azuredevops", "host": "dev.azure.com", "virtual_directory": "/tfs"},
        id="vdir-on-cloud-host",
    ),
    pytest.param(
        {"scm_id": "azuredevops", "host": "tfs.example.com", "virtual_directory": "tfs"},
        id="vdir-not-a-path",
    ),
    pytest.param({"oauth_client_id": "id"}, id="client-id-without-secret"),
    pytest.param({"oauth_plaintext_client_secret": "s"}, id="secret-without-client-id"),
    pytest.param({"issuer_url": "https://sso.example.com"}, id="issuer-without-oauth"),
    pytest.param(
        {"oauth_client_id": "id", "oauth_plaintext_client_secret": "s", "issuer_url": "http://x"},
        id="issuer-not-https",
    ),
    pytest.param(
        {"oauth_client_id": "i" * 256, "oauth_plaintext_client_secret": "s"}, id="id-long"
    ),
    pytest.param({"scm_id": "svn", "host": "", "oauth_client_id": "id"}, id="several-at-once"),
]


@pytest.mark.parametrize("fields", INVALID)
def test_create_rejects_with_the_validators_per_field_errors(capi, fields):
    runner_id = capi.new_runner()
    values = {"scm_id": "github", "host": "github.com", **fields}
    expected = validate_scm_integration(
        schema_for(AWS),
        scm_id=values["scm_id"],
        host=values["host"],
        oauth_client_id=values.get("oauth_client_id"),
        oauth_client_secret_set=bool(values.get("oauth_plaintext_client_secret")),
        pat=False,
        issuer_url=values.get("issuer_url"),
        virtual_directory=values.get("virtual_directory"),
    )
    assert not expected.valid
    error = capi.fails(
        "create_scm_integration",
        rc.CreateSCMIntegrationRequest(runner_id=runner_id, **values),
        Code.INVALID_ARGUMENT,
    )
    assert error.message.startswith("invalid SCM integration: ")
    for attr, name in (
        ("scm_id_error", "scm_id"),
        ("host_error", "host"),
        ("oauth_error", "oauth"),
        ("pat_error", "pat"),
    ):
        if expected.HasField(attr):  # type: ignore[arg-type]
            assert f"{name}: {getattr(expected, attr)}" in error.message
    [detail] = error.details
    assert detail.type_name == "gitpod.v1.SCMIntegrationValidationResult"
    assert rc.SCMIntegrationValidationResult.FromString(detail.message_bytes) == expected
    scm = rc.ValidateRunnerConfigurationRequest.ValidateSCMIntegration(**values)
    answer = capi(
        "validate_runner_configuration",
        rc.ValidateRunnerConfigurationRequest(runner_id=runner_id, scm_integration=scm),
    )
    assert answer.scm_integration == expected
    listed = capi("list_scm_integrations", rc.ListSCMIntegrationsRequest())
    assert list(listed.integrations) == []


def test_ids_permissions_and_not_found(capi):
    runner_id = capi.new_runner()
    integration_id = create(capi, runner_id, pat=True)
    users, admins = new_group_id(), new_group_id()
    capi.grant(runner_id, users, runner_pb2.RUNNER_ROLE_USER)
    capi.grant(runner_id, admins, runner_pb2.RUNNER_ROLE_ADMIN)
    _, user = capi.user("u", groups=[users])
    _, admin = capi.user("a", groups=[admins])
    _, stranger = capi.user("s")
    denied, missing = Code.PERMISSION_DENIED, str(uuid.uuid4())
    assert get(capi, integration_id, user).pat
    create_request = rc.CreateSCMIntegrationRequest(
        runner_id=runner_id, scm_id="gitlab", host="gitlab.com"
    )
    update = rc.UpdateSCMIntegrationRequest(id=integration_id, pat=False)
    delete = rc.DeleteSCMIntegrationRequest(id=integration_id)
    for token in (user, stranger):
        capi.fails("create_scm_integration", create_request, denied, token)
        capi.fails("update_scm_integration", update, denied, token)
        capi.fails("delete_scm_integration", delete, denied, token)
    for target in (integration_id, missing):
        capi.fails("get_scm_integration", rc.GetSCMIntegrationRequest(id=target), denied, stranger)
    listed = capi("list_scm_integrations", rc.ListSCMIntegrationsRequest(), stranger)
    assert list(listed.integrations) == []
    listed = capi("list_scm_integrations", rc.ListSCMIntegrationsRequest(), user)
    assert [i.id for i in listed.integrations] == [integration_id]
    capi("update_scm_integration", update, admin)
    assert not get(capi, integration_id).pat
    for method, request in (
        ("get_scm_integration", rc.GetSCMIntegrationRequest(id=missing)),
        ("update_scm_integration", rc.UpdateSCMIntegrationRequest(id=missing, pat=True)),
        ("delete_scm_integration", rc.DeleteSCMIntegrationRequest(id=missing)),
    ):
        capi.fails(method, request, Code.NOT_FOUND)
        bad = type(request).FromString(request.SerializeToString())
        bad.id = "not-a-uuid"
        assert capi.fails(method, bad, Code.INVALID_ARGUMENT).message.startswith("id")
    capi("delete_scm_integration", delete, admin)
    capi.fails(
        "get_scm_integration", rc.GetSCMIntegrationRequest(id=integration_id), Code.NOT_FOUND
    )


def test_update_by_presence_and_validation(capi):
    runner_id = capi.new_runner()
    integration_id = create(
        capi, runner_id, oauth_client_id="id1", oauth_plaintext_client_secret="secret1"
    )
    update = rc.UpdateSCMIntegrationRequest
    first = get(capi, integration_id)
    capi("update_scm_integration", update(id=integration_id, oauth_client_id="id2"))
    got = get(capi, integration_id)
    assert got.oauth.client_id == "id2"
    assert got.oauth.encrypted_client_secret == first.oauth.encrypted_client_secret
    capi(
        "update_scm_integration",
        update(id=integration_id, oauth_plaintext_client_secret="secret2", pat=True),
    )
    got = get(capi, integration_id)
    assert capi.unseal(runner_id, got.oauth.encrypted_client_secret) == b"secret2"
    assert got.pat
    capi("update_scm_integration", update(id=integration_id, issuer_url="https://sso.example.com"))
    assert get(capi, integration_id).oauth.issuer_url == "https://sso.example.com"
    capi("update_scm_integration", update(id=integration_id))  # nothing to change
    assert get(capi, integration_id) == get(capi, integration_id)
    # The result is validated with the same validator; a failure changes nothing.
    before = get(capi, integration_id)
    failing: list[tuple[dict[str, Any], str]] = [
        ({"issuer_url": "http://plain"}, "oauth"),
        ({"oauth_plaintext_client_secret": ""}, "oauth"),
        ({"virtual_directory": "/tfs"}, "host"),
    ]
    for bad, field in failing:
        error = capi.fails(
            "update_scm_integration", update(id=integration_id, **bad), Code.INVALID_ARGUMENT
        )
        assert f"{field}: " in error.message
        [detail] = error.details
        assert not rc.SCMIntegrationValidationResult.FromString(detail.message_bytes).valid
        assert get(capi, integration_id) == before
    # Removing OAuth clears client id, secret and issuer URL (whatever else is sent).
    capi(
        "update_scm_integration",
        update(id=integration_id, oauth_client_id="", oauth_plaintext_client_secret="zzz"),
    )
    got = get(capi, integration_id)
    assert not got.HasField("oauth")
    assert got.pat


def test_update_deletes_oauth_or_pat_tokens_of_that_runner_and_host(capi):
    runner_id, other = capi.new_runner(), capi.new_runner()
    integration_id = create(
        capi, runner_id, oauth_client_id="id", oauth_plaintext_client_secret="s", pat=True
    )
    group = new_group_id()
    capi.grant(runner_id, group, runner_pb2.RUNNER_ROLE_USER)
    capi.grant(other, group, runner_pb2.RUNNER_ROLE_USER)
    _, alice = capi.user("alice", groups=[group])
    _, bob = capi.user("bob", groups=[group])
    _, carol = capi.user("carol", groups=[group])
    # One token per (runner, host, subject): each subject holds one source here.
    oauth_tokens = {host_token(capi, runner_id, "github.com", OAUTH, t) for t in (None, alice)}
    pat_tokens = {
        host_token(capi, runner_id, "github.com", PAT, bob),
        host_token(capi, runner_id, "GitHub.com", PAT, carol),  # the same host, normalised
    }
    keep = {
        host_token(capi, runner_id, "gitlab.com", OAUTH),  # another host
        host_token(capi, other, "github.com", OAUTH),  # another runner
        host_token(capi, other, "github.com", PAT, bob),
    }
    assert token_ids(capi) == oauth_tokens | pat_tokens | keep
    # A failing update deletes nothing: the tokens go only with a valid update.
    capi.fails(
        "update_scm_integration",
        rc.UpdateSCMIntegrationRequest(
            id=integration_id, oauth_client_id="", pat=False, virtual_directory="/tfs"
        ),
        Code.INVALID_ARGUMENT,
    )
    assert token_ids(capi) == oauth_tokens | pat_tokens | keep
    capi(
        "update_scm_integration",
        rc.UpdateSCMIntegrationRequest(id=integration_id, oauth_client_id=""),
    )
    assert token_ids(capi) == pat_tokens | keep
    capi("update_scm_integration", rc.UpdateSCMIntegrationRequest(id=integration_id, pat=False))
    assert token_ids(capi) == keep
    got = get(capi, integration_id)
    assert not got.pat
    assert not got.HasField("oauth")


def test_delete_removes_the_integrations_oauth_and_pat_tokens(capi):
    runner_id = capi.new_runner()
    integration_id = create(capi, runner_id, pat=True)
    linked = capi(
        "create_host_authentication_token",
        rc.CreateHostAuthenticationTokenRequest(
            runner_id=runner_id,
            host="github.com",
            token="t",
            source=PAT,
            integration_id=integration_id,
        ),
    ).token.id
    group = new_group_id()
    capi.grant(runner_id, group, runner_pb2.RUNNER_ROLE_USER)
    _, user = capi.user("u", groups=[group])
    unspecified = host_token(capi, runner_id, "github.com", 0, user)
    capi("delete_scm_integration", rc.DeleteSCMIntegrationRequest(id=integration_id))
    assert token_ids(capi) == {unspecified}
    assert linked not in token_ids(capi)
    capi.fails(
        "delete_scm_integration", rc.DeleteSCMIntegrationRequest(id=integration_id), Code.NOT_FOUND
    )


def test_list_filter_and_pagination(capi):
    r1, r2, r3 = capi.new_runner(), capi.new_runner(), capi.new_runner()
    hosts = [f"git{i}.example.com" for i in range(5)]
    in_r1 = [create(capi, r1, scm_id="gitlab", host=h) for h in hosts]
    in_r2 = [create(capi, r2, scm_id="gitlab", host=h) for h in hosts[:2]]
    create(capi, r3, scm_id="gitlab", host="elsewhere.example.com")

    def page(size: int, token: str = "", runner_ids: Sequence[str] = ()) -> Any:
        return capi(
            "list_scm_integrations",
            rc.ListSCMIntegrationsRequest(
                filter=rc.ListSCMIntegrationsRequest.Filter(runner_ids=runner_ids),
                pagination=pagination_pb2.PaginationRequest(page_size=size, token=token),
            ),
        )

    seen, token = [], ""
    while True:
        response = page(2, token, [r1, r2])
        seen += [i.id for i in response.integrations]
        token = response.pagination.next_token
        if not token:
            break
    assert seen == in_r1 + in_r2
    assert len(page(0).integrations) == 8
    first = page(2, "", [r1])
    message = capi.fails(
        "list_scm_integrations",
        rc.ListSCMIntegrationsRequest(
            filter=rc.ListSCMIntegrationsRequest.Filter(runner_ids=[r2]),
            pagination=pagination_pb2.PaginationRequest(token=first.pagination.next_token),
        ),
        Code.INVALID_ARGUMENT,
    ).message
    assert message.startswith("pagination.token")
    capi.fails(
        "list_scm_integrations",
        rc.ListSCMIntegrationsRequest(
            filter=rc.ListSCMIntegrationsRequest.Filter(runner_ids=["x"])
        ),
        Code.INVALID_ARGUMENT,
    )
