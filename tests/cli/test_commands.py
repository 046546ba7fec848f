"""The resource commands' behaviours, through the entry point, against the real server.

SCM commands run against a server whose github.com points at the GitHub stub. ``rk_process``
runs the installed console script; ``rk`` invokes the object it calls, in process.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from runnerkit.server.scm import SCMConfig
from tests.cli.test_resources import RUNNERKIT, rk, rk_process
from tests.server.scm.stubs import ALICE, run_stub
from tests.support.server import new_group_id, running_server


@pytest.fixture(scope="module")
def github():
    with run_stub("github") as stub:
        yield stub


@pytest.fixture(scope="module")
def scm_env(github, tmp_path_factory):
    scm = SCMConfig(
        api_base_urls={"github.com": github.api_base},
        web_base_urls={"github.com": github.base_url},
        timeout_s=2.0,
    )
    with running_server(tmp_path_factory.mktemp("cli-scm"), scm=scm) as (url, token):
        yield {"GITPOD_BASE_URL": url, "GITPOD_API_KEY": token}


@pytest.fixture(scope="module")
def runner(scm_env) -> str:
    done = rk(
        "runners", "create", "--name", "cmd runner", "--provider", "aws-ec2", "--json", env=scm_env
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["runner"]["runnerId"])


@pytest.fixture(scope="module")
def alice_token(scm_env, runner) -> str:
    done = rk(
        *("host-tokens", "create", runner, "--host", "github.com", "--value", ALICE),
        *("--source", "pat", "--expires-at", "2030-01-01T10:00:00Z", "--json"),
        env=scm_env,
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["token"]["id"])


def _field(stdout: str, name: str) -> str:
    match = re.search(rf"^{re.escape(name)} +(.*)$", stdout, re.MULTILINE)
    assert match, stdout
    return match[1]


# --- the four RPCs that had no command ----------------------------------------------------


def test_search_repositories(scm_env, runner, alice_token):
    done = rk_process(
        "runners",
        "search-repositories",
        runner,
        "--scm-host",
        "github.com",
        "--query",
        "hello",
        env=scm_env,
    )
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["NAME", "URL"]
    assert ["hello", "https://github.com/alice/hello"] in [row.split() for row in rows]
    listed = json.loads(
        rk(
            "runners",
            "search-repositories",
            runner,
            "--scm-host",
            "github.com",
            "--page-size",
            "2",
            "--limit",
            "3",
            "--json",
            env=scm_env,
        ).stdout
    )
    assert len(listed) == 3
    assert all(r["url"].startswith("https://github.com/") for r in listed)


def test_scm_organizations(scm_env, runner, alice_token):
    done = rk_process(
        "runners",
        "scm-organizations",
        runner,
        "--scm-host",
        "github.com",
        "-o",
        "json",
        env=scm_env,
    )
    assert done.returncode == 0, done.stderr
    names = {o["name"] for o in json.loads(done.stdout)}
    assert names == {"acme", "beta", "delta", "epsilon", "gamma"}


def test_check_access(scm_env, runner, alice_token):
    done = rk_process(
        "runners", "check-access", runner, "https://github.com/alice/hello", env=scm_env
    )
    assert done.returncode == 0, done.stderr
    assert _field(done.stdout, "hasAccess") == "true"
    done = rk("runners", "check-access", runner, "https://github.com/acme/nope", env=scm_env)
    assert done.returncode == 1
    assert "hasAccess" not in done.stdout or _field(done.stdout, "hasAccess") == "false"


def test_scm_command_without_a_host_token_is_one_line(scm_env):
    other = json.loads(
        rk(
            "runners", "create", "--name", "no tokens", "--provider", "gcp", "--json", env=scm_env
        ).stdout
    )["runner"]["runnerId"]
    done = rk("runners", "check-access", other, "https://github.com/alice/hello", env=scm_env)
    assert done.returncode == 5
    assert (
        done.stderr == "error: failed_precondition: missing authentication token for github.com\n"
    )


def test_validate_environment_class_and_scm_integration(scm_env, runner):
    done = rk_process(
        "environment-classes",
        "validate",
        runner,
        "--display-name",
        "Large",
        "--config",
        "instance_type=m6i.xlarge",
        env=scm_env,
    )
    assert _field(done.stdout, "valid") in {"true", "false"}
    bad = rk("environment-classes", "validate", runner, "--display-name", "", "--json", env=scm_env)
    assert bad.returncode == 1
    result = json.loads(bad.stdout)
    assert result.get("valid", False) is False
    assert result["displayNameError"]
    good = rk(
        "scm-integrations",
        "validate",
        runner,
        "--scm-id",
        "github",
        "--host",
        "github.com",
        "--pat",
        "--json",
        env=scm_env,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert json.loads(good.stdout) == {"valid": True}
    wrong = rk(
        "scm-integrations",
        "validate",
        runner,
        "--scm-id",
        "nosuchscm",
        "--host",
        "x.example",
        env=scm_env,
    )
    assert wrong.returncode == 1
    assert _field(wrong.stdout, "scmIdError")


# --- what the CLI prints, it takes back -----------------------------------------------------


def test_printed_timestamps_and_enum_names_are_accepted_back(scm_env, runner, alice_token):
    shown = rk_process("host-tokens", "get", alice_token, env=scm_env)
    assert shown.returncode == 0, shown.stderr
    expires = _field(shown.stdout, "expiresAt")
    source = _field(shown.stdout, "source")
    assert expires == "2030-01-01T10:00:00Z"
    assert source == "pat"
    table = rk("host-tokens", "list", "--runner-id", runner, env=scm_env).stdout
    row = next(line.split() for line in table.splitlines() if alice_token in line)
    assert expires in row
    assert source in row
    again = rk(
        *("host-tokens", "create", runner, "--host", "github.com", "--value", "x"),
        *("--source", source, "--expires-at", expires, "--subject-id", new_group_id()),
        env=scm_env,
    )
    assert "--expires-at" not in again.stderr
    assert "--source" not in again.stderr
    updated = rk(
        "host-tokens",
        "update",
        alice_token,
        "--expires-at",
        "2030-01-01T12:00:00+02:00",
        env=scm_env,
    )
    assert updated.returncode == 0, updated.stderr
    assert _field(updated.stdout, "expiresAt") == "2030-01-01T10:00:00Z"


def test_enum_names_are_the_option_names_everywhere(scm_env, runner):
    listed = rk_process("runners", "list", "--provider", "aws-ec2", env=scm_env).stdout
    row = next(line.split() for line in listed.splitlines() if runner in line)
    assert row[row.index("runner") + 1] == "aws-ec2"  # NAME is "cmd runner"
    assert _field(rk("runners", "get", runner, env=scm_env).stdout, "provider") == "aws-ec2"
    group = new_group_id()
    made = rk("policies", "create", runner, group, "--role", "admin", env=scm_env)
    assert _field(made.stdout, "role") == "admin"
    assert "admin" in rk("policies", "list", runner, env=scm_env).stdout.split()
    full = rk("runners", "list", "--provider", "RUNNER_PROVIDER_AWS_EC2", "--json", env=scm_env)
    assert runner in full.stdout
    help_text = rk("runners", "create", "--help").stdout
    assert "aws-ec2" in help_text
    assert "aws_ec2" not in help_text


def test_timestamp_option_errors_name_the_option(scm_env, runner):
    done = rk(
        "host-tokens",
        "create",
        runner,
        "--host",
        "h",
        "--value",
        "v",
        "--expires-at",
        "soon",
        env=scm_env,
    )
    assert done.returncode == 2
    assert "--expires-at" in done.stderr
    assert "2030-01-01T10:00:00Z" in done.stderr


# --- updates, deletes, required values --------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["runners", "update", "RID"],
        ["environment-classes", "update", "RID"],
        ["scm-integrations", "update", "RID"],
        ["host-tokens", "update", "RID"],
    ],
    ids=lambda a: a[0],
)
def test_update_without_a_change_is_a_usage_error(scm_env, args):
    done = rk_process(*args, env=scm_env)
    assert done.returncode == 2
    assert "nothing to update: give at least one of --" in done.stderr
    assert "Traceback" not in done.stderr


def test_updates_print_the_updated_resource(scm_env, runner):
    done = rk("runners", "update", runner, "--release-channel", "latest", env=scm_env)
    assert done.returncode == 0, done.stderr
    assert _field(done.stdout, "spec.configuration.releaseChannel") == "latest"
    made = json.loads(
        rk(
            "environment-classes",
            "create",
            runner,
            "--display-name",
            "Small",
            "--description",
            "Two cores",
            "--json",
            env=scm_env,
        ).stdout
    )
    done = rk(
        "environment-classes", "update", made["id"], "--description", "tiny", "--json", env=scm_env
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["id"] == made["id"]
    assert shown["description"] == "tiny"
    assert shown["displayName"] == "Small"


def test_delete_asks_for_confirmation_unless_yes(scm_env):
    def new_runner() -> str:
        out = rk(
            "runners", "create", "--name", "doomed", "--provider", "gcp", "--json", env=scm_env
        )
        return str(json.loads(out.stdout)["runner"]["runnerId"])

    victim = new_runner()
    declined = rk_process("runners", "delete", victim, env=scm_env, stdin="n\n")
    assert declined.returncode == 1
    assert f"Delete runner {victim}?" in declined.stderr
    assert rk("runners", "get", victim, env=scm_env).returncode == 0
    no_answer = subprocess.run(
        [RUNNERKIT, "runners", "delete", victim],
        env={**scm_env, "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert no_answer.returncode == 1
    assert rk("runners", "get", victim, env=scm_env).returncode == 0
    accepted = rk_process("runners", "delete", victim, env=scm_env, stdin="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert rk("runners", "get", victim, env=scm_env).returncode == 3
    other = new_runner()
    assert rk("runners", "delete", other, "--yes", env=scm_env).returncode == 0
    assert rk("runners", "get", other, env=scm_env).returncode == 3


def test_a_missing_required_value_names_the_option(scm_env, runner):
    done = rk_process("host-tokens", "create", runner, "--host", "github.com", env=scm_env)
    assert done.returncode == 2
    assert "Missing option '--value'" in done.stderr
    done = rk_process("runners", "search-repositories", runner, env=scm_env)
    assert done.returncode == 2
    assert "Missing option '--scm-host'" in done.stderr


def test_missing_token_names_the_option_and_the_variable(scm_env):
    done = rk_process("runners", "list", env={"GITPOD_BASE_URL": scm_env["GITPOD_BASE_URL"]})
    assert done.returncode == 2
    assert "--token" in done.stderr
    assert "GITPOD_API_KEY" in done.stderr
    assert done.stderr.count("\n") == 1


# --- output formats and completion ------------------------------------------------------------


def test_output_json_yaml_table_and_the_json_alias(scm_env, runner):
    as_json = json.loads(
        rk_process("runners", "get", runner, "--output", "json", env=scm_env).stdout
    )
    assert as_json["provider"] == "RUNNER_PROVIDER_AWS_EC2"
    assert json.loads(rk("runners", "get", runner, "--json", env=scm_env).stdout) == as_json
    as_yaml = yaml.safe_load(rk("runners", "get", runner, "-o", "yaml", env=scm_env).stdout)
    assert as_yaml == as_json
    listed = yaml.safe_load(rk("runners", "list", "-o", "yaml", env=scm_env).stdout)
    assert runner in [r["runnerId"] for r in listed]
    table = rk("runners", "get", runner, "-o", "table", env=scm_env).stdout
    assert _field(table, "runnerId") == runner
    clash = rk("runners", "get", runner, "--json", "-o", "yaml", env=scm_env)
    assert clash.returncode == 2


def test_shell_completion(scm_env):
    script = rk_process("completion", "bash")
    assert script.returncode == 0
    assert "_RUNNERKIT_COMPLETE=bash_complete" in script.stdout
    assert "complete " in script.stdout

    def complete(line: str) -> list[str]:
        words = line.split(" ")
        done = rk_process(
            env={
                "_RUNNERKIT_COMPLETE": "bash_complete",
                "COMP_WORDS": line,
                "COMP_CWORD": str(len(words) - 1),
            }
        )
        return [item.split(",", 1)[1] for item in done.stdout.split()]

    assert "runners" in complete("runnerkit run")
    assert complete("runnerkit runners search") == ["search-repositories"]
    assert complete("runnerkit runners list --provider aws") == ["aws-ec2"]
    for shell in ("zsh", "fish"):
        assert rk_process("completion", shell).returncode == 0
