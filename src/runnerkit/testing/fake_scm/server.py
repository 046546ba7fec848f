"""Fake GitHub and GitLab REST APIs: ``FakeSCM`` answers in process or on a loopback port.

``FakeSCM(kind, data)`` holds the data and ``switches`` of one SCM. Serve it two ways:

- in process: ``FakeSCMTransport({host: fake, ...})`` is an ``httpx`` transport that answers
  requests to those hosts (``api.github.com`` and ``github.com`` for GitHub, ``HOST/api/v3`` for
  GitHub Enterprise, ``HOST/api/v4`` for GitLab) and refuses every other host: no network;
- on loopback: ``serve_fake_scm(fake)`` runs it on 127.0.0.1:<free port> in a thread (for
  servers in other processes); ``fake.api_base`` is then the REST API base URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlencode

import httpx
import uvicorn

from runnerkit.testing.fake_scm.data import FakeSCMData
from runnerkit.testing.fake_scm.github import github
from runnerkit.testing.fake_scm.gitlab import gitlab
from runnerkit.testing.fake_scm.request import Kind, Req, Resp, Switches, gate, refresh

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from runnerkit.server.asgi import Receive, Scope, Send


class FakeSCM:
    """One fake SCM (``"github"`` or ``"gitlab"``); an ASGI app as well.

    Args:
        kind: Which REST API it speaks.
        data: What it knows; empty by default. ``reset()`` goes back to a copy of it.
        prefix: Path prefix of the REST API on loopback (``"/api/v3"``: GitHub Enterprise).
    """

    def __init__(self, kind: Kind, data: FakeSCMData | None = None, prefix: str = "") -> None:
        if kind not in ("github", "gitlab"):
            raise ValueError(f"kind: expected 'github' or 'gitlab', got {kind!r}")
        self.kind: Kind = kind
        self._initial = data or FakeSCMData()
        self.data = copy.deepcopy(self._initial)
        self.switches = Switches()
        self.prefix = prefix
        self.base_url = ""
        default_web = "https://github.com" if kind == "github" else "https://gitlab.com"
        self.web = "https://ghe.example.com" if prefix else default_web

    def reset(self) -> None:
        """Back to the data it was made with, and no switches."""
        self.data, self.switches = copy.deepcopy(self._initial), Switches()

    @property
    def api_base(self) -> str:
        """The REST API base URL while served on loopback."""
        return self.base_url + ("/api/v4" if self.kind == "gitlab" else self.prefix)

    def respond(self, req: Req, web: str | None = None) -> Resp:
        """The answer to one request: ``(status, JSON-ready body or text, headers)``."""
        data, switches = self.data, self.switches  # as of the request's arrival
        switches.requests.append(f"{req.method} {req.raw_path}?{urlencode(req.query)}")
        if self.kind == "github" and req.segs[:2] == ["api", "v3"]:
            req.segs = req.segs[2:]
        gated = gate(req, data, switches, self.kind)
        if gated is not None:
            return gated
        if req.method == "POST" and req.segs in (
            ["login", "oauth", "access_token"],
            ["oauth", "token"],
        ):
            return refresh(req, data, self.kind)
        handler = github if self.kind == "github" else gitlab
        return handler(req, data, req.user(data), web or self.web)

    def answer(  # noqa: PLR0917 - the parts of a raw request
        self,
        method: str,
        raw_path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        base: str,
        web: str | None = None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer a raw request: status, headers and body bytes (delay not included)."""
        req = Req(
            method,
            [unquote(s) for s in raw_path.split("/") if s],
            dict(parse_qsl(query)),
            {k.lower(): v for k, v in headers.items()},
            dict(parse_qsl(body.decode(errors="replace"))),
            base,
            raw_path,
        )
        switches = self.switches
        status, payload, extra = self.respond(req, web)
        text = isinstance(payload, str)
        out = payload.encode() if text else json.dumps(payload).encode()
        kinds = [("content-type", "text/plain" if text else "application/json")]
        kept = [(k, v) for k, v in extra.items() if k not in switches.drop_headers]
        return status, kinds + kept, out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request over ASGI."""
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if self.switches.delay_s:
            await asyncio.sleep(self.switches.delay_s)
        status, out_headers, out = self.answer(
            scope["method"],
            scope["raw_path"].decode(),
            scope["query_string"].decode(),
            headers,
            body,
            f"http://{headers.get('host', '')}",
        )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in out_headers],
            }
        )
        await send({"type": "http.response.body", "body": out})


class FakeSCMTransport(httpx.BaseTransport):
    """An ``httpx`` transport answering from fakes by host; other hosts fail to connect.

    Args:
        fakes: SCM host (``github.com``, ``gitlab.com``, a GitHub Enterprise or self-managed
            GitLab host) to the fake that answers for it. ``api.github.com`` answers for
            ``github.com``.
    """

    def __init__(self, fakes: Mapping[str, FakeSCM]) -> None:
        self._fakes = {host.lower(): fake for host, fake in fakes.items()}

    def fake_for(self, host: str) -> FakeSCM | None:
        """The fake answering for a URL host, if any."""
        host = host.lower()
        found = self._fakes.get(host)
        if found is None and host == "api.github.com":
            found = self._fakes.get("github.com")
        return found

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer from the host's fake."""
        host = request.url.host
        fake = self.fake_for(host)
        if fake is None:
            raise httpx.ConnectError(f"no fake SCM serves {host} (offline)", request=request)
        if fake.switches.delay_s:
            time.sleep(fake.switches.delay_s)
        web_host = "github.com" if host == "api.github.com" else host
        status, headers, body = fake.answer(
            request.method,
            request.url.raw_path.decode().split("?", 1)[0],
            request.url.query.decode(),
            dict(request.headers),
            request.read(),
            f"https://{host}",
            f"https://{web_host}",
        )
        return httpx.Response(status, headers=headers, content=body, request=request)


@contextlib.contextmanager
def serve_fake_scm(fake: FakeSCM) -> Iterator[FakeSCM]:
    """Serve ``fake`` on 127.0.0.1:<free port> in a thread for the duration of the block."""
    from runnerkit.server.sockets import bind  # noqa: PLC0415 - only loopback serving needs it
    from runnerkit.testing.serving import running_in_thread  # noqa: PLC0415 - likewise

    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        fake, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    with running_in_thread(config, sock, "runnerkit-fake-scm"):
        fake.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        yield fake
