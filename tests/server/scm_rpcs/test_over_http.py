"""Over a real socket with plain JSON: retry hints of upstream failures, and the serve options."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from runnerkit.cli.serve import serve
from runnerkit.server.settings import SCM_API_URLS_ENV, parse_host_urls, scm_url_overrides
from tests.server.scm.stubs import ALICE
from tests.server.scm_rpcs.harness import SECRETS, scm_config
from tests.support.server import running_server

if TYPE_CHECKING:
    from pathlib import Path

    from tests.server.scm.stubs import Stub


def _post(
    base: str, service: str, rpc: str, body: Any, token: str
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        f"{base}/gitpod.v1.{service}/{rpc}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), json.loads(err.read())


def test_upstream_failures_are_retryable(
    tmp_path: Path, github_server: Stub, gitlab_server: Stub
) -> None:
    github_server.reset()
    with running_server(tmp_path, scm=scm_config(github_server, gitlab_server)) as (base, admin):
        _, _, made = _post(
            base,
            "RunnerService",
            "CreateRunner",
            {"name": "runner", "provider": "RUNNER_PROVIDER_AWS_EC2"},
            admin,
        )
        rid = made["runner"]["runnerId"]
        _post(
            base,
            "RunnerConfigurationService",
            "CreateHostAuthenticationToken",
            {"runnerId": rid, "host": "github.com", "token": ALICE},
            admin,
        )
        search = {"runnerId": rid, "scmHost": "github.com", "searchString": "svc"}
        status, _, body = _post(base, "RunnerService", "SearchRepositories", search, admin)
        assert status == 200
        assert body.get("pagination", {}).get("nextToken", "") == ""
        assert len(body["repositories"]) == 7
        github_server.switches.outage = 503
        status, headers, error = _post(base, "RunnerService", "SearchRepositories", search, admin)
        assert (status, error["code"]) == (503, "unavailable")
        assert "x-should-retry" not in {k.lower() for k in headers}
        github_server.switches.outage, github_server.switches.rate_limit = None, 403
        status, headers, error = _post(base, "RunnerService", "SearchRepositories", search, admin)
        assert (status, error["code"]) == (429, "resource_exhausted")
        assert "2030-03-17T17:46:40Z" in error["message"]
        assert "x-should-retry" not in {k.lower() for k in headers}
        assert not any(s in json.dumps(error) for s in SECRETS)


def test_scm_url_settings() -> None:
    assert parse_host_urls([" GitHub.com = http://127.0.0.1:1/ ", ""], "x") == {
        "github.com": "http://127.0.0.1:1"
    }
    env = {SCM_API_URLS_ENV: "github.com=http://a,gitlab.com=http://b"}
    assert scm_url_overrides(SCM_API_URLS_ENV, ["gitlab.com=https://c"], env) == {
        "github.com": "http://a",
        "gitlab.com": "https://c",
    }
    for bad in ("github.com", "=http://a", "github.com=ftp://a"):
        with pytest.raises(ValueError, match="HOST=URL"):
            parse_host_urls([bad], "--scm-api-url")
    runner = CliRunner()
    helped = runner.invoke(serve, ["--help"])
    assert "--scm-api-url HOST=URL" in helped.output
    assert "--scm-web-url HOST=URL" in helped.output
    assert SCM_API_URLS_ENV in helped.output
    failed = runner.invoke(serve, ["--scm-api-url", "nonsense"])
    assert failed.exit_code == 2
    assert "HOST=URL" in failed.output
