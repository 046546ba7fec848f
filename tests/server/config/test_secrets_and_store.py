"""Secrets at rest, DeleteRunner's cascade, and the configuration store on PostgreSQL."""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import sqlalchemy as sa
from connectrpc.code import Code

from runnerkit.server.app import create_app
from runnerkit.server.bootstrap import bootstrap_admin, build_services
from runnerkit.server.crypto import MasterKey
from runnerkit.server.domain.errors import AlreadyExistsError
from runnerkit.server.storage import open_store, sqlite_url
from runnerkit.server.storage.config_records import HostTokenRecord, SCMIntegrationRecord
from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from tests.server.config.harness import config_api_for
from tests.support.server import db_path

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from runnerkit.server.storage.sql import SQLStore
    from tests.server.config.harness import ConfigApi

OAUTH = rc.HOST_AUTHENTICATION_TOKEN_SOURCE_OAUTH
TABLES = ("environment_classes", "scm_integrations", "host_auth_tokens")


def _populate(capi: ConfigApi, runner_id: str, secrets: Sequence[str]) -> tuple[str, str, str]:
    integration_id = capi(
        "create_scm_integration",
        rc.CreateSCMIntegrationRequest(
            runner_id=runner_id,
            scm_id="github",
            host="github.com",
            oauth_client_id="client",
            oauth_plaintext_client_secret=secrets[0],
        ),
    ).id
    token = capi(
        "create_host_authentication_token",
        rc.CreateHostAuthenticationTokenRequest(
            runner_id=runner_id,
            host="github.com",
            token=secrets[1],
            refresh_token=secrets[2],
            source=OAUTH,
            integration_id=integration_id,
        ),
    ).token
    class_id = capi(
        "create_environment_class",
        rc.CreateEnvironmentClassRequest(
            runner_id=runner_id, display_name="cls", description="A class"
        ),
    ).id
    return integration_id, token.id, class_id


def test_secrets_are_sealed_to_the_runner_and_never_stored_or_logged_in_clear(capi_proto, caplog):
    capi = capi_proto
    caplog.set_level(logging.DEBUG)
    runner_id = capi.new_runner()
    secrets = [f"plain-{name}-{uuid.uuid4().hex}" for name in ("oauth", "token", "refresh")]
    integration_id, token_id, _ = _populate(capi, runner_id, secrets)
    later = [f"plain-{name}-{uuid.uuid4().hex}" for name in ("oauth2", "token2", "refresh2")]
    capi(
        "update_scm_integration",
        rc.UpdateSCMIntegrationRequest(id=integration_id, oauth_plaintext_client_secret=later[0]),
    )
    capi(
        "update_host_authentication_token",
        rc.UpdateHostAuthenticationTokenRequest(
            id=token_id, token=later[1], refresh_token=later[2]
        ),
    )
    # The runner's private key opens what the API returns and what the store holds.
    integration = capi("get_scm_integration", rc.GetSCMIntegrationRequest(id=integration_id))
    sealed = integration.integration.oauth.encrypted_client_secret
    assert capi.unseal(runner_id, sealed) == later[0].encode()
    store = open_store(sqlite_url(db_path(capi.directory)))
    try:
        record = store.get_host_token(token_id)
    finally:
        store.close()
    assert record is not None
    assert capi.unseal(runner_id, record.token_sealed) == later[1].encode()
    assert capi.unseal(runner_id, record.refresh_token_sealed) == later[2].encode()
    # No plaintext in the database file, its WAL, or the logs.
    raw = b"".join(
        path.read_bytes()
        for path in capi.directory.iterdir()
        if path.name.startswith(db_path(capi.directory).name)
    )
    assert len(raw) > 0
    for secret in secrets + later:
        assert secret.encode() not in raw, secret
        assert secret not in caplog.text


def test_delete_runner_removes_its_configuration(capi):
    runner_id, other = capi.new_runner(), capi.new_runner()
    integration_id, token_id, class_id = _populate(capi, runner_id, ["a", "b", "c"])
    kept = _populate(capi, other, ["d", "e", "f"])
    capi.runners("delete_runner", runner_pb2.DeleteRunnerRequest(runner_id=runner_id))
    for method, request in (
        ("get_scm_integration", rc.GetSCMIntegrationRequest(id=integration_id)),
        ("get_host_authentication_token", rc.GetHostAuthenticationTokenRequest(id=token_id)),
        ("get_environment_class", rc.GetEnvironmentClassRequest(environment_class_id=class_id)),
    ):
        capi.fails(method, request, Code.NOT_FOUND)
    engine = sa.create_engine(sqlite_url(db_path(capi.directory)))
    try:
        with engine.connect() as conn:
            for table in TABLES:
                rows = conn.execute(sa.text(f"SELECT runner_id FROM {table}")).scalars().all()
                assert rows == [other], table
    finally:
        engine.dispose()
    assert capi("get_scm_integration", rc.GetSCMIntegrationRequest(id=kept[0])).integration.id


def test_configuration_on_postgres(postgres_url: str, tmp_path: Path):
    base = sa.make_url(postgres_url)
    name = f"rk_{uuid.uuid4().hex}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    store = open_store(base.set(database=name).render_as_string(hide_password=False))
    services = build_services(store, MasterKey(bytes(range(32))))
    try:
        token = bootstrap_admin(store)
        assert token is not None
        app = create_app(services)
        with config_api_for(app, token, tmp_path, json=False) as capi:
            runner_id, other = capi.new_runner(), capi.new_runner()
            integration_id, token_id, class_id = _populate(capi, runner_id, ["a", "b", "c"])
            _populate(capi, other, ["d", "e", "f"])
            capi.fails(
                "create_scm_integration",
                rc.CreateSCMIntegrationRequest(
                    runner_id=runner_id, scm_id="github", host="GitHub.com"
                ),
                Code.ALREADY_EXISTS,
            )
            classes = [class_id] + [
                capi(
                    "create_environment_class",
                    rc.CreateEnvironmentClassRequest(
                        runner_id=runner_id, display_name=f"class{i}", description="A class"
                    ),
                ).id
                for i in range(4)
            ]
            seen, page = [], ""
            while True:
                response = capi(
                    "list_environment_classes",
                    rc.ListEnvironmentClassesRequest(
                        filter=rc.ListEnvironmentClassesRequest.Filter(
                            runner_ids=[runner_id], runner_kinds=[rc.RUNNER_KIND_REMOTE]
                        ),
                        pagination=pagination_pb2.PaginationRequest(page_size=2, token=page),
                    ),
                )
                seen += [c.id for c in response.environment_classes]
                page = response.pagination.next_token
                if not page:
                    break
            assert seen == classes
            capi(
                "update_scm_integration",
                rc.UpdateSCMIntegrationRequest(id=integration_id, oauth_client_id=""),
            )
            capi.fails(
                "get_host_authentication_token",
                rc.GetHostAuthenticationTokenRequest(id=token_id),
                Code.NOT_FOUND,
            )
            _race_for_unique_keys(store, other)
            capi.runners("delete_runner", runner_pb2.DeleteRunnerRequest(runner_id=runner_id))
            capi.fails(
                "get_environment_class",
                rc.GetEnvironmentClassRequest(environment_class_id=class_id),
                Code.NOT_FOUND,
            )
            with store.engine.connect() as conn:
                for table in TABLES:
                    rows = conn.execute(sa.text(f"SELECT runner_id FROM {table}")).scalars()
                    assert set(rows) == {other}, table
    finally:
        services.scm.close()
        store.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}"'))
        admin.dispose()


def _race_for_unique_keys(store: SQLStore, runner_id: str) -> None:
    """Concurrent creates of one (runner, host) / (runner, host, subject): one wins."""
    workers = 6
    barrier = threading.Barrier(workers)

    def integration(n: int) -> str:
        record = SCMIntegrationRecord(
            str(uuid.uuid4()),
            runner_id,
            "gitlab",
            "race.example.com",
            None,
            b"",
            None,
            False,
            None,
            n,
            n,
        )
        barrier.wait()
        try:
            store.insert_scm_integration(record)
        except AlreadyExistsError:
            return "exists"
        return "created"

    def token(n: int) -> str:
        record = HostTokenRecord(
            str(uuid.uuid4()),
            runner_id,
            "race.example.com",
            "s",
            2,
            0,
            b"x",
            b"",
            None,
            None,
            (),
            n,
            n,
        )
        barrier.wait()
        try:
            store.insert_host_token(record)
        except AlreadyExistsError:
            return "exists"
        return "created"

    for job in (integration, token):
        with ThreadPoolExecutor(workers) as pool:
            outcomes = sorted(pool.map(job, range(workers)))
        assert outcomes == ["created"] + ["exists"] * (workers - 1), job.__name__


def test_updated_at_moves_only_on_a_change(capi_proto):
    capi = capi_proto
    runner_id = capi.new_runner()
    integration_id, token_id, class_id = _populate(capi, runner_id, ["a", "b", "c"])

    def stamps() -> tuple[int, int, int]:
        store = open_store(sqlite_url(db_path(capi.directory)))
        try:
            records = (
                store.get_environment_class(class_id),
                store.get_scm_integration(integration_id),
                store.get_host_token(token_id),
            )
        finally:
            store.close()
        assert all(r is not None for r in records)
        return tuple(r.updated_at for r in records if r is not None)  # type: ignore[return-value]

    start = stamps()
    assert all(stamp > 0 for stamp in start)
    same = [
        (
            "update_environment_class",
            rc.UpdateEnvironmentClassRequest(environment_class_id=class_id, display_name="cls"),
        ),
        (
            "update_scm_integration",
            rc.UpdateSCMIntegrationRequest(id=integration_id, oauth_client_id="client", pat=False),
        ),
        ("update_host_authentication_token", rc.UpdateHostAuthenticationTokenRequest(id=token_id)),
    ]
    for method, request in same:
        capi(method, request)
    assert stamps() == start
    capi(
        "update_environment_class",
        rc.UpdateEnvironmentClassRequest(environment_class_id=class_id, enabled=False),
    )
    capi("update_scm_integration", rc.UpdateSCMIntegrationRequest(id=integration_id, pat=True))
    capi(
        "update_host_authentication_token",
        rc.UpdateHostAuthenticationTokenRequest(id=token_id, scopes=["repo"]),
    )
    assert all(after > before for after, before in zip(stamps(), start, strict=True))
