"""The SCM client follows redirects only within the origin, and logs no URLs or tokens at INFO.

Two stubs on loopback: ``home`` is the configured github.com API, ``elsewhere`` another
address a redirect may name. Nothing may reach ``elsewhere``: not a request, not a token, not
an OAuth client secret.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import pytest

from runnerkit.server.scm import SCMConfig, SCMRegistry, SCMRequestFailedError
from runnerkit.server.scm.http import MAX_REDIRECTS
from runnerkit.server.scm.refresh import refresh_oauth_token
from runnerkit.testing.fake_scm import FakeSCM
from runnerkit.testing.serving import serve_in_thread
from tests.server.scm.stubs import ALICE, CLIENT_ID, CLIENT_SECRET, REFRESH, default_data

if TYPE_CHECKING:
    from collections.abc import Iterator

    from runnerkit.server.asgi import Receive, Scope, Send

HOST = "github.com"


class Redirecting:
    """The fake GitHub behind a layer answering some paths with a redirect (ASGI app)."""

    def __init__(self) -> None:
        self.fake = FakeSCM("github", default_data())
        self.redirects: dict[str, tuple[int, str]] = {}
        self.requests: list[str] = []  # every request: "METHOD /path"
        self.base_url = ""

    def reset(self) -> None:
        self.fake.reset()
        self.redirects = {}
        self.requests.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.requests.append(f"{scope['method']} {scope['path']}")
        if scope["path"] not in self.redirects:
            await self.fake(scope, receive, send)
            return
        status, location = self.redirects[scope["path"]]
        headers = [(b"location", location.encode()), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


@contextlib.contextmanager
def _serve() -> Iterator[Redirecting]:
    app = Redirecting()
    with serve_in_thread(app) as url:
        app.base_url = url
        yield app


@pytest.fixture(scope="module")
def stubs() -> Iterator[tuple[Redirecting, Redirecting]]:
    with _serve() as home, _serve() as elsewhere:
        yield home, elsewhere


@pytest.fixture
def env(
    stubs: tuple[Redirecting, Redirecting],
) -> Iterator[tuple[Redirecting, Redirecting, SCMRegistry]]:
    home, elsewhere = stubs
    home.reset()
    elsewhere.reset()
    config = SCMConfig(
        api_base_urls={HOST: home.base_url}, web_base_urls={HOST: home.base_url}, timeout_s=2
    )
    with SCMRegistry(config) as registry:
        yield home, elsewhere, registry


def _other_addresses(home: Redirecting, elsewhere: Redirecting) -> list[str]:
    port = home.base_url.rsplit(":", 1)[1]
    return [
        f"{elsewhere.base_url}/repos/alice/hello",  # another port
        f"http://localhost:{port}/repos/alice/hello",  # another host name, same server
        f"https://127.0.0.1:{port}/repos/alice/hello",  # another scheme
    ]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_to_another_address_is_not_followed(env, status):
    home, elsewhere, registry = env
    adapter = registry.adapter("github", HOST)
    for target in _other_addresses(home, elsewhere):
        home.redirects = {"/repos/acme/moved": (status, target)}
        home.requests.clear()
        with pytest.raises(SCMRequestFailedError) as info:
            adapter.check_repository_access(ALICE, "acme", "moved")
        assert "redirected" in info.value.message
        assert home.requests == ["GET /repos/acme/moved"]
    assert elsewhere.requests == []


def test_redirect_within_the_origin_is_followed_with_the_token(env):
    home, _, registry = env
    adapter = registry.adapter("github", HOST)
    home.redirects = {
        "/repos/acme/old-name": (301, "/repos/acme/private-app"),  # relative
        "/repos/acme/older": (301, f"{home.base_url}/repos/acme/old-name"),  # absolute
    }
    # private-app is readable with ALICE's token only: the token survived both hops.
    assert adapter.check_repository_access(ALICE, "acme", "older").has_access
    assert home.requests == [
        "GET /repos/acme/older",
        "GET /repos/acme/old-name",
        "GET /repos/acme/private-app",
    ]


def test_redirect_loop_stops(env):
    home, _, registry = env
    home.redirects = {"/repos/a/loop": (302, "/repos/a/loop")}
    with pytest.raises(SCMRequestFailedError):
        registry.adapter("github", HOST).check_repository_access(ALICE, "a", "loop")
    assert len(home.requests) == MAX_REDIRECTS + 1


@pytest.mark.parametrize("status", [307, 308])
def test_token_refresh_never_sends_the_client_secret_elsewhere(env, status):
    home, elsewhere, registry = env
    home.redirects = {
        "/login/oauth/access_token": (status, f"{elsewhere.base_url}/login/oauth/access_token")
    }
    with pytest.raises(SCMRequestFailedError):
        refresh_oauth_token(
            registry.client,
            "github",
            HOST,
            refresh_token=REFRESH,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            config=registry.config,
        )
    assert elsewhere.requests == []


def test_no_urls_query_strings_or_tokens_logged_at_info(env, caplog):
    home, _, registry = env
    caplog.set_level(logging.INFO)
    adapter = registry.adapter("github", HOST)
    adapter.search_repositories(ALICE, search="svc-secretquery", mode="keyword", page=1, per_page=3)
    adapter.check_repository_access(ALICE, "alice", "hello")
    assert home.requests  # the calls happened
    client_side = [r for r in caplog.records if not r.name.startswith("uvicorn")]  # not the stub's
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in client_side)
    assert "secretquery" not in text
    assert "S3CRET" not in text
    assert "http://" not in text
    assert not [r for r in client_side if r.name.startswith("httpx")]
