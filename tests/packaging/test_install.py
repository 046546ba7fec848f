"""The wheel without extras, in a fresh virtualenv: the client only, and it works.

The virtualenv gets the wheel and its base dependencies at the versions of
``$RUNNERKIT_INSTALL_CONSTRAINTS`` (default ``requirements/constraints.txt``; ``make check-min``
passes ``requirements/minimum.txt``, the lower bounds of ``pyproject.toml``). The reference
server runs from the test's own environment; the client in the virtualenv talks to it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
import venv
from typing import TYPE_CHECKING

import pytest

from tests.support.server import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

from tests.packaging.conftest import ROOT

SERVER_PACKAGES = {
    "uvicorn",
    "httptools",
    "uvloop",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "psycopg-binary",
    "pynacl",
    "httpx",
    "httpcore",
    "zttp",
    "connectrpc-grpcreflect",
    "mako",
}

CLIENT_SCRIPT = r"""
import json, pickle, sys
import runnerkit
from runnerkit_proto.gitpod.v1 import runner_pb2

client = runnerkit.Client(base_url=sys.argv[1], bearer_token=sys.argv[2])
created = client.runners.create(name="from the wheel", provider="RUNNER_PROVIDER_AWS_EC2")
got = client.runners.retrieve(runner_id=created.runner.runner_id)
again = pickle.loads(pickle.dumps(got))
print(json.dumps({
    "name": got.runner.name,
    "module": type(got).__module__,
    "pickled_equal": again == got,
    "listed": [r.name for r in client.runners.list()],
    "provider": runnerkit.to_dict(got.runner)["provider"],
}))
"""


# Read at import: the autouse clean_environ fixture strips RUNNERKIT_* from each test.
_CONSTRAINTS = os.environ.get("RUNNERKIT_INSTALL_CONSTRAINTS", "requirements/constraints.txt")


def _constraints() -> Path:
    return ROOT / _CONSTRAINTS


@pytest.fixture(scope="module")
def client_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("client-venv")
    venv.create(directory, with_pip=True)
    pip = [str(directory / "bin/python"), "-m", "pip", "install", "--quiet", "--no-compile"]
    subprocess.run(
        [*pip, "--disable-pip-version-check", "-c", str(_constraints()), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return directory


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with running_server(tmp_path_factory.mktemp("install-server")) as (url, token):
        yield url, token


def _run(venv_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITPOD_", "RUNNERKIT_"))}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        args, capture_output=True, text=True, timeout=120, check=False, env=env, cwd=venv_dir
    )


@pytest.mark.timeout(400)
def test_no_server_package_is_installed(client_venv):
    done = _run(client_venv, str(client_venv / "bin/python"), "-m", "pip", "list", "--format=json")
    installed = {p["name"].lower().replace("_", "-") for p in json.loads(done.stdout)}
    assert "runnerkit" in installed
    assert not installed & SERVER_PACKAGES


_VENV_OWN = frozenset({"pip", "setuptools"})


def test_the_installed_versions_are_the_constraints(client_venv):
    done = _run(client_venv, str(client_venv / "bin/python"), "-m", "pip", "list", "--format=json")
    installed = {p["name"].lower(): p["version"] for p in json.loads(done.stdout)}
    for line in _constraints().read_text(encoding="utf-8").splitlines():
        name, sep, version = line.partition("==")
        # pip and setuptools come with the virtualenv itself, not with runnerkit.
        if sep and name.lower() in installed and name.lower() not in _VENV_OWN:
            assert installed[name.lower()] == version, name


def test_the_client_talks_to_a_running_server_and_responses_pickle(client_venv, server):
    url, token = server
    done = _run(client_venv, str(client_venv / "bin/python"), "-c", CLIENT_SCRIPT, url, token)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["name"] == "from the wheel"
    assert result["module"] == "runnerkit_proto.gitpod.v1.runner_pb2"
    assert result["pickled_equal"] is True
    assert "from the wheel" in result["listed"]
    assert result["provider"] == "RUNNER_PROVIDER_AWS_EC2"


def test_the_resource_commands_work_without_extras(client_venv, server):
    url, token = server
    runnerkit = str(client_venv / "bin/runnerkit")
    done = _run(client_venv, runnerkit, "runners", "list", "--base-url", url, "--token", token)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split()[:2] == ["ID", "NAME"]


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["admin", "create-user", "x"]])
def test_server_commands_ask_for_the_server_extra(client_venv, command):
    done = _run(client_venv, str(client_venv / "bin/runnerkit"), *command)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "pip install 'runnerkit[server]'" in done.stderr


def test_minimum_versions_match_the_lower_bounds_of_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    bounds = {}
    for requirement in project["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?>=([^,]+),.*", requirement)
        assert match, f"{requirement}: base dependencies are ranges with a lower bound"
        bounds[match[1].lower()] = match[2]
    pinned = {}
    for line in (ROOT / "requirements/minimum.txt").read_text(encoding="utf-8").splitlines():
        name, sep, version = line.partition("==")
        if sep:
            pinned[name.lower()] = version
    assert pinned == bounds
