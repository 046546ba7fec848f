"""The resource commands against the real server (and the fake API for one stdin case).

The end-to-end flows (help, runner lifecycle, missing token, unreachable server, stdin
secrets) run the installed ``runnerkit`` console script in a subprocess (``rk_process``);
the rest invoke ``runnerkit.cli:main`` — the object that script calls — in process (``rk``),
which keeps the suite fast.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from runnerkit.cli import SERVER_COMMANDS, main
from tests.client.fake_api import State, build_app, serve
from tests.client.server_gaps import KNOWN_UNIMPLEMENTED
from tests.support.server import create_user, new_group_id

RUNNERKIT = str(Path(sys.executable).parent / "runnerkit")


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def rk_process(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    """Run the installed ``runnerkit`` console script in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITPOD_", "RUNNERKIT_"))}
    full_env.update(env or {})
    done = subprocess.run(
        [RUNNERKIT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def rk(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    """Run ``runnerkit.cli:main`` (the object the console script calls) in this process."""
    result = CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def env(real_server) -> dict[str, str]:
    url, token = real_server
    return {"GITPOD_BASE_URL": url, "GITPOD_API_KEY": token}


@pytest.fixture(scope="module")
def runner_id(env) -> str:
    done = rk_process(
        "runners", "create", "--name", "cli runner", "--provider", "aws-ec2", "--json", env=env
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["runner"]["runnerId"])


def _all_commands() -> list[list[str]]:
    paths: list[list[str]] = []
    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        if name in SERVER_COMMANDS or name == "completion":
            continue
        group = main.get_command(ctx, name)
        paths.append([name])
        assert isinstance(group, click.Group)
        paths += [[name, sub] for sub in group.commands]
    return paths


@pytest.mark.parametrize("path", _all_commands(), ids=" ".join)
def test_help_everywhere(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "Exit codes" in result.output


def test_top_level_help_lists_resource_groups():
    done = rk_process("--help")
    assert done.returncode == 0
    for name in ["runners", "policies", "environment-classes", "scm-integrations", "host-tokens"]:
        assert name in done.stdout
    assert "schema" in done.stdout
    assert "context-url" in done.stdout


def test_create_get_list_update_delete_runner(env, runner_id):
    done = rk_process("runners", "get", runner_id, env=env)
    assert done.returncode == 0, done.stderr
    assert "cli runner" in done.stdout
    assert re.search(r"^provider +aws-ec2$", done.stdout, re.MULTILINE)

    done = rk_process("runners", "list", env=env)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "PROVIDER", "PHASE", "CREATED"]
    assert any(runner_id in row and "aws-ec2" in row.split() for row in rows)

    done = rk_process("runners", "list", "--provider", "RUNNER_PROVIDER_AWS_EC2", "--json", env=env)
    listed = json.loads(done.stdout)
    assert runner_id in [r["runnerId"] for r in listed]
    assert all(r["provider"] == "RUNNER_PROVIDER_AWS_EC2" for r in listed)

    done = rk_process("runners", "update", runner_id, "--name", "renamed", "--auto-update", env=env)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^name +renamed$", done.stdout, re.MULTILINE)  # the updated runner
    got = json.loads(rk_process("runners", "get", runner_id, "--json", env=env).stdout)
    assert got["name"] == "renamed"
    assert got["spec"]["configuration"]["autoUpdate"] is True

    other = json.loads(
        rk_process(
            "runners", "create", "--name", "doomed", "--provider", "gcp", "--json", env=env
        ).stdout
    )["runner"]["runnerId"]
    done = rk_process("runners", "delete", other, "--yes", env=env)
    assert done.returncode == 0, done.stderr
    done = rk_process("runners", "get", other, env=env)
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr == f"error: not_found: runner {other} not found\n"


def test_pagination_limit(env):
    for i in range(3):
        rk("runners", "create", "--name", f"page {i}", "--provider", "gcp", env=env)
    done = rk("runners", "list", "--page-size", "1", "--limit", "2", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 2


def test_policies(env, runner_id):
    group = new_group_id()
    done = rk("policies", "create", runner_id, group, "--role", "user", env=env)
    assert done.returncode == 0, done.stderr
    done = rk("policies", "create", runner_id, group, "--role", "admin", env=env)
    assert done.returncode == 5
    assert done.stderr.startswith("error: already_exists: ")
    assert done.stderr.count("\n") == 1
    done = rk("policies", "update", runner_id, group, "--role", "admin", env=env)
    assert done.returncode == 0, done.stderr
    done = rk("policies", "list", runner_id, env=env)
    assert group in done.stdout
    assert "admin" in done.stdout
    listed = json.loads(rk("policies", "list", runner_id, "--json", env=env).stdout)
    assert {"groupId": group, "role": "RUNNER_ROLE_ADMIN"} in listed
    assert rk("policies", "delete", runner_id, group, "--yes", env=env).returncode == 0
    assert group not in rk("policies", "list", runner_id, env=env).stdout


def test_tokens(env, runner_id):
    done = rk("runners", "token", runner_id, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["exchangeToken"]
    done = rk("runners", "logs-token", runner_id, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["accessToken"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["runners", "get", "not-a-uuid"],
            1,
            "error: invalid_argument: runner_id: must be a valid UUID",
        ),
        (["runners", "list", "--provider", "mainframe"], 2, "is not one of"),
        (["runners", "create"], 2, "Missing option '--name'"),
        (["runners", "create", "--name", "x", "--spec", "[1]"], 2, "must be a JSON object"),
    ],
)
def test_exit_codes_and_one_line_errors(env, args, code, message):
    done = rk(*args, env=env)
    assert done.returncode == code, done.stderr
    assert message in done.stderr


def test_missing_token_is_a_usage_error(real_server):
    url, _ = real_server
    done = rk_process("runners", "list", env={"GITPOD_BASE_URL": url})
    assert done.returncode == 2
    assert done.stderr == "error: no API token: pass --token or set GITPOD_API_KEY\n"


def test_options_override_environment_and_auth_errors(real_server, server_dir):
    url, _ = real_server
    _, outsider = create_user(server_dir, name="cli outsider")
    done = rk("runners", "list", "--base-url", url, "--token", outsider, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    done = rk("runners", "list", "--base-url", url, "--token", "nope")
    assert done.returncode == 4
    assert done.stderr.startswith("error: unauthenticated: ")


def test_unreachable_server_is_exit_6():
    done = rk_process("runners", "list", "--base-url", "http://127.0.0.1:9", "--token", "x")
    assert done.returncode == 6
    assert done.stderr == "error: cannot reach http://127.0.0.1:9: Connection refused\n"


def test_configuration_commands_answer(env, runner_id):
    """The configuration commands succeed unless their RPC is still in KNOWN_UNIMPLEMENTED."""
    cases = {
        "GetRunnerConfigurationSchema": ["schema", "get", runner_id],
        "ListEnvironmentClasses": ["environment-classes", "list"],
        "ListSCMIntegrations": ["scm-integrations", "list"],
        "ListHostAuthenticationTokens": ["host-tokens", "list"],
    }
    for rpc, args in cases.items():
        done = rk(*args, env=env)
        if rpc in KNOWN_UNIMPLEMENTED:
            assert done.returncode == 1
            assert done.stderr.startswith("error: unimplemented: ")
        else:
            assert done.returncode == 0, done.stderr


def test_schema_get(env, runner_id):
    done = rk("schema", "get", runner_id, "--json", env=env)
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert {s["scmId"] for s in schema["scm"]} >= {"github", "gitlab"}
    table = rk("schema", "get", runner_id, env=env).stdout
    assert "scm[0].scmId" in table


def test_environment_classes(env, runner_id):
    done = rk(
        "environment-classes",
        "create",
        runner_id,
        "--display-name",
        "Large",
        "--description",
        "8 CPUs",
        "--config",
        "cpu=8",
        "--config",
        "memory=16384",
        "--json",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    class_id = json.loads(done.stdout)["id"]
    done = rk(
        "environment-classes", "update", class_id, "--disable", "--description", "ddd", env=env
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(rk("environment-classes", "get", class_id, "--json", env=env).stdout)
    assert got["displayName"] == "Large"
    assert got.get("enabled", False) is False
    assert got["description"] == "ddd"
    table = rk("environment-classes", "list", "--runner-id", runner_id, env=env).stdout
    assert class_id in table
    assert "cpu=8, memory=16384" in table
    enabled = rk("environment-classes", "list", "--enabled", "--json", env=env).stdout
    assert class_id not in enabled
    done = rk(
        "environment-classes",
        "create",
        runner_id,
        "--display-name",
        "xyz",
        "--description",
        "xyz",
        "--config",
        "x",
        env=env,
    )
    assert done.returncode == 2
    assert "KEY=VALUE" in done.stderr


def test_scm_integrations_and_host_tokens(env, runner_id):
    done = rk(
        "scm-integrations",
        "create",
        runner_id,
        "--scm-id",
        "gitlab",
        "--host",
        "gitlab.com",
        "--pat",
        "--json",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    integration = json.loads(done.stdout)["id"]
    again = rk(
        "scm-integrations", "create", runner_id, "--scm-id", "gitlab", "--host", "gitlab.com"
    )
    assert again.returncode in {2, 5}
    assert "gitlab" in rk("scm-integrations", "get", integration, env=env).stdout
    listed = rk("scm-integrations", "list", "--runner-id", runner_id, env=env).stdout
    assert integration in listed

    done = rk(
        *("host-tokens", "create", runner_id, "--host", "gitlab.com", "--value", "-"),
        *("--source", "pat", "--expires-at", "2031-05-06T07:08:09", "--json"),
        env=env,
        stdin="glpat-secret\n",
    )
    assert done.returncode == 0, done.stderr
    token_id = json.loads(done.stdout)["token"]["id"]
    assert "glpat-secret" not in done.stdout
    got = json.loads(rk("host-tokens", "get", token_id, "--json", env=env).stdout)
    assert got["expiresAt"] == "2031-05-06T07:08:09Z"
    table = rk("host-tokens", "list", "--runner-id", runner_id, env=env).stdout
    assert token_id in table
    assert "2031-05-06T07:08:09Z" in table
    done = rk("host-tokens", "update", token_id, "--expires-at", "2032-01-01", env=env)
    assert done.returncode == 0, done.stderr
    got = json.loads(rk("host-tokens", "get", token_id, "--json", env=env).stdout)
    assert got["expiresAt"] == "2032-01-01T00:00:00Z"
    assert rk("host-tokens", "delete", token_id, "--yes", env=env).returncode == 0
    assert rk("host-tokens", "get", token_id, env=env).returncode == 3
    assert rk("scm-integrations", "delete", integration, "-y", env=env).returncode == 0
    assert rk("scm-integrations", "get", integration, env=env).returncode == 3


def test_context_url_parse(env, runner_id):
    done = rk(
        "context-url",
        "parse",
        "https://github.com/org/repo/tree/main",
        "--runner-id",
        runner_id,
        "--json",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    assert parsed["git"]["owner"] == "org"
    assert parsed["git"]["repo"] == "repo"


def test_host_token_create_parses_secret_and_expiry(tmp_path):
    """Against the fake API (it records the request): stdin secret, UTC expiry, enum number."""
    state = State()
    with serve(build_app(state)) as url:
        done = subprocess.run(
            [
                RUNNERKIT,
                "host-tokens",
                "create",
                "11111111-1111-4111-8111-111111111111",
                "--host",
                "github.com",
                "--value",
                "-",
                "--source",
                "pat",
                "--expires-at",
                "2030-01-02T03:04:05",
                "--scope",
                "repo",
                "--json",
                "--base-url",
                url,
                "--token",
                "t",
            ],
            input="the-secret\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["token"]["expiresAt"] == "2030-01-02T03:04:05Z"
    (_, _, request), *_ = state.requests
    assert request.token == "the-secret"
    assert request.source == 2
    assert list(request.scopes) == ["repo"]
    assert "the-secret" not in done.stdout
