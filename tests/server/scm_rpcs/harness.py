"""A server whose SCM hosts are the local stubs, a runner on it, and helpers for the tests."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from connectrpc.errors import ConnectError
from google.protobuf import timestamp_pb2

from runnerkit.server.scm import SCMConfig
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from tests.server.config.harness import ConfigApi, config_api_for
from tests.server.scm.stubs import ALICE, BOB, CLIENT_SECRET, REFRESH, REFUSED
from tests.support.server import app_on_fresh_store

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from connectrpc.code import Code

    from tests.server.scm.stubs import Stub

SELF_MANAGED = "git.example.com"
# Everything that must never appear in a message or a log line ("new-" = refreshed tokens).
SECRETS = ("S3CRET", "new-access-", "new-refresh-", ALICE, BOB, REFUSED, REFRESH, CLIENT_SECRET)


def scm_config(github: Stub, gitlab: Stub, timeout_s: float = 0.5) -> SCMConfig:
    """github.com → the GitHub stub; gitlab.com and git.example.com → the GitLab stub."""
    return SCMConfig(
        api_base_urls={
            "github.com": github.api_base,
            "gitlab.com": gitlab.api_base,
            SELF_MANAGED: gitlab.api_base,
        },
        web_base_urls={
            "github.com": github.base_url,
            "gitlab.com": gitlab.base_url,
            SELF_MANAGED: gitlab.base_url,
        },
        timeout_s=timeout_s,
    )


@dataclass
class ScmWorld:
    """A server on the stubs, a runner, and the admin's client."""

    api: ConfigApi
    runner_id: str
    github: Stub
    gitlab: Stub

    def stub(self, host: str) -> Stub:
        """The stub serving a host."""
        return self.github if host == "github.com" else self.gitlab

    def call(self, method: str, request: Any, token: str | None = None) -> Any:
        """Call a RunnerService RPC."""
        return self.api.runners(method, request, token)

    def fails(self, method: str, request: Any, code: Code, token: str | None = None) -> str:
        """Call, expect ``code``, check no secret is in the message; return the message."""
        with pytest.raises(ConnectError) as info:
            self.call(method, request, token)
        message = info.value.message
        assert info.value.code == code, (info.value.code, message)
        assert not any(secret in message for secret in SECRETS), message
        return message

    def host_token(
        self,
        host: str,
        token: str = ALICE,
        *,
        expires_in_s: int | None = None,
        refresh_token: str = "",
        bearer: str | None = None,
    ) -> str:
        """Create the caller's host token through CreateHostAuthenticationToken; its id."""
        request = rc.CreateHostAuthenticationTokenRequest(
            runner_id=self.runner_id,
            host=host,
            token=token,
            refresh_token=refresh_token,
            source=rc.HOST_AUTHENTICATION_TOKEN_SOURCE_OAUTH
            if refresh_token
            else rc.HOST_AUTHENTICATION_TOKEN_SOURCE_PAT,
        )
        if expires_in_s is not None:
            request.expires_at.CopyFrom(
                timestamp_pb2.Timestamp(seconds=int(time.time()) + expires_in_s)
            )
        return str(self.api("create_host_authentication_token", request, bearer).token.id)

    def integration(
        self, host: str, scm_id: str, *, client_id: str = "", client_secret: str = ""
    ) -> str:
        """Create an SCM integration on the runner (OAuth client when given); its id."""
        request = rc.CreateSCMIntegrationRequest(
            runner_id=self.runner_id, scm_id=scm_id, host=host, pat=True
        )
        if client_id:
            request.oauth_client_id = client_id
            request.oauth_plaintext_client_secret = client_secret
        return str(self.api("create_scm_integration", request).id)


@contextlib.contextmanager
def open_world(directory: Path, github: Stub, gitlab: Stub, *, json: bool) -> Iterator[ScmWorld]:
    """A fresh server in ``directory`` on the stubs, with one runner."""
    with (
        app_on_fresh_store(directory, scm=scm_config(github, gitlab)) as (app, token),
        config_api_for(app, token, directory, json=json) as api,
    ):
        yield ScmWorld(api, api.new_runner(), github, gitlab)
