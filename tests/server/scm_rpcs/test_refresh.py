"""OAuth refresh of expired (or rejected) host tokens through the stubs' token endpoints."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from connectrpc.code import Code

from runnerkit.server.storage import open_store, sqlite_url
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from runnerkit_proto.gitpod.v1 import runner_pb2
from tests.server.scm.stubs import CLIENT_ID, CLIENT_SECRET, REFRESH
from tests.support.server import db_path

if TYPE_CHECKING:
    from runnerkit.server.storage.config_records import HostTokenRecord
    from tests.server.scm_rpcs.harness import ScmWorld

R = runner_pb2
HOSTS = ("github.com", "gitlab.com")


def _stored(scm: ScmWorld, token_id: str) -> HostTokenRecord:
    store = open_store(sqlite_url(db_path(scm.api.directory)))
    try:
        record = store.get_host_token(token_id)
    finally:
        store.close()
    assert record is not None
    return record


def _search(scm: ScmWorld, host: str) -> R.SearchRepositoriesRequest:
    return R.SearchRepositoriesRequest(runner_id=scm.runner_id, scm_host=host, search_string="svc")


def _oauth(scm: ScmWorld, host: str, secret: str = CLIENT_SECRET) -> None:
    scm.integration(host, host.split(".", maxsplit=1)[0], client_id=CLIENT_ID, client_secret=secret)


@pytest.mark.parametrize("host", HOSTS)
def test_expired_token_is_refreshed_and_stored_sealed(scm: ScmWorld, host: str):
    _oauth(scm, host)
    token_id = scm.host_token(host, "old-S3CRET-access", expires_in_s=-60, refresh_token=REFRESH)
    before = _stored(scm, token_id)
    found = scm.call("search_repositories", _search(scm, host))
    assert len(found.repositories) == 7
    stub = scm.stub(host)
    assert stub.data.minted == 1
    assert REFRESH not in stub.data.refresh_tokens  # the old refresh token is spent
    after = _stored(scm, token_id)
    assert scm.api.unseal(scm.runner_id, after.token_sealed) == b"new-access-1"
    assert scm.api.unseal(scm.runner_id, after.refresh_token_sealed) == b"new-refresh-1"
    assert b"new-access-1" not in after.token_sealed
    assert after.expires_at is not None
    assert after.expires_at > time.time() * 1_000_000 + 3600 * 1_000_000
    assert after.updated_at > before.updated_at
    token = scm.api(
        "get_host_authentication_token", rc.GetHostAuthenticationTokenRequest(id=token_id)
    ).token
    assert token.expires_at.seconds == after.expires_at // 1_000_000
    # The new token is used from now on, without another refresh.
    scm.call("search_repositories", _search(scm, host))
    assert stub.data.minted == 1


@pytest.mark.parametrize("host", HOSTS)
def test_rejected_token_is_refreshed_once_and_retried(scm: ScmWorld, host: str):
    _oauth(scm, host)
    token_id = scm.host_token(host, "revoked-S3CRET-access", refresh_token=REFRESH)
    assert scm.call(
        "check_repository_access",
        R.CheckRepositoryAccessRequest(
            runner_id=scm.runner_id, repository_url=f"https://{host}/acme/private-app"
        ),
    ).has_access
    assert scm.api.unseal(scm.runner_id, _stored(scm, token_id).token_sealed) == b"new-access-1"
    # The refresh token is spent now: a token the SCM rejects again cannot be refreshed twice.
    scm.api(
        "update_host_authentication_token",
        rc.UpdateHostAuthenticationTokenRequest(
            id=token_id, token="revoked-S3CRET-again", refresh_token=REFRESH
        ),
    )
    message = scm.fails("search_repositories", _search(scm, host), Code.FAILED_PRECONDITION)
    assert message == f"{host} rejected the token refresh; sign in again"


def test_refresh_needs_the_oauth_client(scm: ScmWorld):
    host = "github.com"
    scm.host_token(host, "old-S3CRET-access", expires_in_s=-60, refresh_token=REFRESH)
    # No integration with an OAuth client: an expired token is no token.
    message = scm.fails("search_repositories", _search(scm, host), Code.FAILED_PRECONDITION)
    assert message == f"missing authentication token for {host}"
    _oauth(scm, host, secret="wrong-S3CRET-secret")
    message = scm.fails("search_repositories", _search(scm, host), Code.FAILED_PRECONDITION)
    assert message == f"{host} rejected the token refresh; sign in again"
    assert scm.github.data.minted == 0
    scm.github.switches.outage = 503
    assert "retry in 30 s" in scm.fails("search_repositories", _search(scm, host), Code.UNAVAILABLE)
