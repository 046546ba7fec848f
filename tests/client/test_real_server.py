"""The facade against the reference server: loopback (sync, async) and in process (async)."""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyqwest
import pytest
from pyqwest.testing import ASGITransport

import runnerkit
from runnerkit import timestamps as runnerkit_timestamps
from runnerkit_proto.gitpod.v1 import runner_pb2
from tests.client.inprocess import SyncASGITransport
from tests.client.server_gaps import KNOWN_UNIMPLEMENTED
from tests.support.server import app_on_fresh_store, create_user, new_group_id

RUNNERS = 61
PAGE_SIZE = 7


@pytest.fixture(scope="module")
def populated(real_server, server_dir):
    """A user who created exactly RUNNERS runners (so that listing sees only those)."""
    url, _ = real_server
    _, token = create_user(server_dir, name="pager", runner_creator=True)
    client = runnerkit.Client(base_url=url, bearer_token=token)
    ids = [
        client.runners.create(
            name=f"runner {i}", provider="RUNNER_PROVIDER_LINUX_HOST"
        ).runner.runner_id
        for i in range(RUNNERS)
    ]
    return url, token, ids


def test_sync_auto_pagination_over_loopback(populated):
    url, token, ids = populated
    client = runnerkit.Client(base_url=url, bearer_token=token)
    page = client.runners.list(page_size=PAGE_SIZE)
    assert len(page.runners) == PAGE_SIZE
    seen = [r.runner_id for r in page]
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == len(seen) == RUNNERS
    pages = list(page.iter_pages())
    assert sum(len(p.items) for p in pages) == RUNNERS
    assert len(pages) >= -(-RUNNERS // PAGE_SIZE)
    assert not pages[-1].has_next_page()


@pytest.mark.parametrize("codec", ["proto", "json"])
def test_async_auto_pagination_over_loopback(populated, codec):
    url, token, ids = populated

    async def main() -> list[str]:
        async with runnerkit.AsyncClient(base_url=url, bearer_token=token, codec=codec) as client:
            page = await client.runners.list(page_size=PAGE_SIZE)
            return [r.runner_id async for r in page]

    seen = asyncio.run(main())
    assert len(seen) == RUNNERS
    assert set(seen) == set(ids)


def test_async_in_process(tmp_path):
    """AsyncClient over pyqwest's ASGITransport: no socket at all."""

    async def main(app, admin_token) -> None:
        async with ASGITransport(app) as transport:
            http = pyqwest.Client(transport)
            client = runnerkit.AsyncClient(
                base_url="http://runnerkit.test", bearer_token=admin_token, http_client=http
            )
            made = [
                (
                    await client.runners.create(name=f"runner{i}", provider="RUNNER_PROVIDER_GCP")
                ).runner
                for i in range(RUNNERS)
            ]
            page = await client.runners.list(page_size=PAGE_SIZE)
            seen = [r.runner_id async for r in page]
            assert sorted(seen) == sorted(r.runner_id for r in made)
            with pytest.raises(runnerkit.NotFoundError):
                await client.runners.retrieve(runner_id=str(uuid.uuid4()))

    with app_on_fresh_store(tmp_path) as (app, admin_token):
        asyncio.run(main(app, admin_token))


def test_sync_in_process(tmp_path):
    """Client over a sync in-process transport: pagination, errors, JSON codec."""
    with app_on_fresh_store(tmp_path) as (app, admin_token), SyncASGITransport(app) as transport:
        http = pyqwest.SyncClient(transport)
        client = runnerkit.Client(
            base_url="http://runnerkit.test", bearer_token=admin_token, http_client=http
        )
        made = {
            client.runners.create(
                name=f"runner{i}", provider="RUNNER_PROVIDER_GCP"
            ).runner.runner_id
            for i in range(RUNNERS)
        }
        for codec in ("proto", "json"):
            reader = runnerkit.Client(
                base_url="http://runnerkit.test",
                bearer_token=admin_token,
                http_client=http,
                codec=codec,
            )
            seen = [r.runner_id for r in reader.runners.list(page_size=PAGE_SIZE)]
            assert len(seen) == RUNNERS
            assert set(seen) == made
        with pytest.raises(runnerkit.NotFoundError):
            client.runners.retrieve(runner_id=str(uuid.uuid4()))


def test_errors_map_to_classes(real_server, server_dir):
    url, admin = real_server
    client = runnerkit.Client(base_url=url, bearer_token=admin)
    runner = client.runners.create(name="errors", provider="RUNNER_PROVIDER_AWS_EC2").runner
    with pytest.raises(runnerkit.NotFoundError, match="not found") as info:
        client.runners.retrieve(runner_id="00000000-0000-4000-8000-000000000000")
    assert info.value.code.value == "not_found"
    assert info.value.__cause__ is not None
    with pytest.raises(runnerkit.InvalidArgumentError):
        client.runners.retrieve(runner_id="not-a-uuid")
    with pytest.raises(runnerkit.InvalidArgumentError):
        client.runners.list(page_size=-1)
    with pytest.raises(runnerkit.InvalidArgumentError):
        client.runners.list(token="garbage")
    with pytest.raises(runnerkit.UnauthenticatedError):
        runnerkit.Client(base_url=url, bearer_token="wrong").runners.list()
    group = new_group_id()
    client.runners.policies.create(
        runner_id=runner.runner_id, group_id=group, role="RUNNER_ROLE_USER"
    )
    with pytest.raises(runnerkit.AlreadyExistsError):
        client.runners.policies.create(
            runner_id=runner.runner_id, group_id=group, role="RUNNER_ROLE_ADMIN"
        )
    _, outsider = create_user(server_dir, name="outsider")
    with pytest.raises(runnerkit.PermissionDeniedError):
        runnerkit.Client(base_url=url, bearer_token=outsider).runners.retrieve(
            runner_id=runner.runner_id
        )
    with pytest.raises(runnerkit.APIError):
        client.runners.update(
            runner_id=runner.runner_id, spec={"desired_phase": "RUNNER_PHASE_INACTIVE"}
        )


@pytest.mark.parametrize("codec", ["proto", "json"])
def test_server_timestamps_are_utc_datetimes(real_server, codec):
    url, admin = real_server
    client = runnerkit.Client(base_url=url, bearer_token=admin, codec=codec)
    before = datetime.now(UTC) - timedelta(seconds=5)
    created = client.runners.create(name="clock", provider="RUNNER_PROVIDER_GCP").runner
    when = runnerkit_timestamps.from_timestamp(created.created_at)
    assert when.tzinfo is UTC
    assert before <= when <= datetime.now(UTC) + timedelta(seconds=5)
    again = client.runners.retrieve(runner_id=created.runner_id).runner
    assert again.created_at == created.created_at


@pytest.mark.parametrize("codec", ["proto", "json"])
def test_timestamps_into_the_server(real_server, codec):
    """expires_at goes in as a naive datetime (read as UTC) and comes back equal.

    While CreateHostAuthenticationToken is in KNOWN_UNIMPLEMENTED the RPC must answer
    unimplemented; otherwise the round trip runs.
    """
    url, admin = real_server
    client = runnerkit.Client(base_url=url, bearer_token=admin, codec=codec)
    runner = client.runners.create(name="tokens", provider="RUNNER_PROVIDER_GCP").runner
    tokens = client.runners.configurations.host_authentication_tokens
    expires = datetime(2030, 6, 1, 12, 30, 15, 250000)  # noqa: DTZ001 - naive = UTC, as the reference passes it
    create = functools.partial(
        tokens.create,
        runner_id=runner.runner_id,
        host="github.com",
        token="fake-value",
        source="HOST_AUTHENTICATION_TOKEN_SOURCE_PAT",
        expires_at=expires,
    )
    if "CreateHostAuthenticationToken" in KNOWN_UNIMPLEMENTED:
        with pytest.raises(runnerkit.UnimplementedError):
            create()
        return
    made = create()
    got = tokens.retrieve(id=made.token.id).token
    assert runnerkit_timestamps.from_timestamp(got.expires_at) == expires.replace(tzinfo=UTC)


def test_generated_client_stays_usable(real_server):
    url, admin = real_server
    client = runnerkit.Client(base_url=url, bearer_token=admin)
    response = client.runner_service.list_runners(runner_pb2.ListRunnersRequest())
    assert isinstance(response, runner_pb2.ListRunnersResponse)


class FailFirst:
    """ASGI middleware in front of the real app: the first N calls of each RPC get 503."""

    def __init__(self, app, failures: int) -> None:
        self.app = app
        self.failures = failures
        self.seen: collections.Counter[str] = collections.Counter()
        self.reached: collections.Counter[str] = collections.Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rpc = scope["path"].rsplit("/", 1)[-1]
        self.seen[rpc] += 1
        if self.seen[rpc] <= self.failures:
            body = json.dumps({"code": "unavailable", "message": "warming up"}).encode()
            headers = [(b"content-type", b"application/json"), (b"retry-after", b"0")]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        self.reached[rpc] += 1
        await self.app(scope, receive, send)


def test_retries_only_where_safe_against_the_real_app(tmp_path):
    sleeps: list[float] = []
    policy = runnerkit.RetryPolicy(sleep=sleeps.append)
    with app_on_fresh_store(tmp_path) as (app, admin_token):
        flaky = FailFirst(app, failures=2)
        with SyncASGITransport(flaky) as transport:
            client = runnerkit.Client(
                base_url="http://runnerkit.test",
                bearer_token=admin_token,
                http_client=pyqwest.SyncClient(transport),
                retry_policy=policy,
            )
            # CreateRunner has side effects: never retried, so both failures surface.
            for _ in range(2):
                with pytest.raises(runnerkit.UnavailableError, match="warming up"):
                    client.runners.create(name="xyz", provider="RUNNER_PROVIDER_GCP")
            assert sleeps == []
            runner = client.runners.create(name="xyz", provider="RUNNER_PROVIDER_GCP").runner
            assert flaky.reached["CreateRunner"] == 1
            # GetRunner and ListRunners are NO_SIDE_EFFECTS: retried twice, then succeed.
            assert client.runners.retrieve(runner_id=runner.runner_id).runner.name == "xyz"
            assert [r.runner_id for r in client.runners.list()] == [runner.runner_id]
            assert flaky.seen["GetRunner"] == flaky.seen["ListRunners"] == 3
            assert sleeps == [0.0] * 4  # Retry-After: 0 honoured


def test_docs_snippets_run(real_server, monkeypatch):
    """The Python blocks of docs/client.md run against the server, configured by env vars."""
    url, admin = real_server
    monkeypatch.setenv("GITPOD_BASE_URL", url)
    monkeypatch.setenv("GITPOD_API_KEY", admin)
    text = (Path(__file__).parents[2] / "docs" / "client.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/client.md", "exec"), {"print": lambda *_: None})
