"""Every Python example of the reference runs against the reference server over loopback.

Both over a loopback socket and in process (a sync pyqwest transport over the ASGI app).
Only the import and the constructor change (``client = runnerkit.Client(...)``), and the
example ids are replaced by ids of objects created first. RPCs the server does not implement
yet must answer ``unimplemented``; when one starts to work, this test fails until it is
removed from ``KNOWN_UNIMPLEMENTED`` (the set may only shrink).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pyqwest
import pytest

import runnerkit
from tests.client.inprocess import SyncASGITransport
from tests.client.reference_examples import Example, load_examples
from tests.client.server_gaps import EXPECTED_ERRORS, KNOWN_UNIMPLEMENTED, SERVER_GAPS
from tests.support.server import app_on_fresh_store, create_user, new_group_id

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

EXAMPLE_RUNNER = "d2c94c27-3b76-4a42-b88c-95a85e392c68"
EXAMPLE_GROUP = "f53d2330-3795-4c5d-a1f3-453121af9c60"
EXAMPLE_INTEGRATION = "integration-id"  # ValidateRunnerConfiguration's scm_integration.id
EXAMPLE_IDS = (EXAMPLE_RUNNER, EXAMPLE_GROUP, EXAMPLE_INTEGRATION)

EXAMPLES = load_examples()


@dataclass
class World:
    """Objects the examples' ids are replaced with."""

    runner_id: str
    spare_runner_id: str
    group_id: str
    user_id: str
    environment_class_id: str = ""
    scm_integration_id: str = ""
    spare_scm_integration_id: str = ""
    host_token_id: str = ""
    spare_host_token_id: str = ""


@dataclass(frozen=True)
class Target:
    base_url: str
    admin_token: str
    directory: Path
    user_id: str
    http_client: pyqwest.SyncClient | None = None


@pytest.fixture(scope="module", params=["loopback", "in-process"])
def target(request, real_server, server_dir: Path, tmp_path_factory) -> Iterator[Target]:
    """The reference server over a loopback socket, or in process (no socket at all)."""
    if request.param == "loopback":
        url, token = real_server
        user, _ = create_user(server_dir, name="example user")
        yield Target(url, token, server_dir, user)
        return
    directory = tmp_path_factory.mktemp("in-process")
    with app_on_fresh_store(directory) as (app, token), SyncASGITransport(app) as transport:
        user, _ = create_user(directory, name="example user")
        http = pyqwest.SyncClient(transport)
        yield Target("http://runnerkit.test", token, directory, user, http)


@pytest.fixture
def client(target: Target) -> Iterator[runnerkit.Client]:
    with runnerkit.Client(
        base_url=target.base_url, bearer_token=target.admin_token, http_client=target.http_client
    ) as c:
        yield c


@pytest.fixture
def world(client, target: Target) -> World:
    runners = client.runners
    configs = runners.configurations

    def runner() -> str:
        made = runners.create(name="Example Runner", provider="RUNNER_PROVIDER_AWS_EC2")
        return str(made.runner.runner_id)

    w = World(runner(), runner(), new_group_id(), target.user_id)
    for runner_id in (w.runner_id, w.spare_runner_id):
        runners.policies.create(runner_id=runner_id, group_id=w.group_id, role="RUNNER_ROLE_USER")
    w.environment_class_id = configs.environment_classes.create(
        runner_id=w.runner_id,
        display_name="Example",
        description="An example class",
        configuration=[{"key": "cpu", "value": "8"}, {"key": "memory", "value": "16384"}],
    ).id
    # Not github.com: the examples create their own integration and token for that host.
    for attr, host, scm in [
        ("scm_integration_id", "gitlab.com", "gitlab"),
        ("spare_scm_integration_id", "bitbucket.org", "bitbucket"),
    ]:
        made = configs.scm_integrations.create(
            runner_id=w.runner_id, host=host, scm_id=scm, pat=True
        )
        setattr(w, attr, made.id)
    for attr, host in [("host_token_id", "gitlab.com"), ("spare_host_token_id", "bitbucket.org")]:
        token = configs.host_authentication_tokens.create(
            runner_id=w.runner_id,
            host=host,
            token="example-token-value",
            source="HOST_AUTHENTICATION_TOKEN_SOURCE_PAT",
        )
        setattr(w, attr, token.token.id)
    return w


def substitute(example: Example, w: World) -> str:
    """Replace the example's ids with ids of existing objects."""
    *_, namespace, verb = example.facade.split(".")
    spare = verb == "delete"
    ids: dict[str, str | None] = {
        "runner_id": w.spare_runner_id if spare and namespace == "runners" else w.runner_id,
        "runner_ids": w.runner_id,
        "environment_class_id": w.environment_class_id,
        "group_id": new_group_id() if verb == "create" else w.group_id,
        "user_id": w.user_id,
    }
    if namespace == "host_authentication_tokens":
        ids["id"] = w.spare_host_token_id if spare else w.host_token_id
    elif namespace in {"scm_integrations", "configurations"}:
        ids["id"] = w.spare_scm_integration_id if spare else w.scm_integration_id

    def replace(match: re.Match[str]) -> str:
        new = ids.get(match.group("key"))
        return match.group(0) if new is None else match.group(0).replace(match.group("id"), new)

    pattern = (
        r"""(?P<key>\w+)"?(?:=|: \[?)"(?P<id>"""
        + "|".join(re.escape(i) for i in EXAMPLE_IDS)
        + ')"'
    )
    return re.sub(pattern, replace, example.source)


def run(source: str, client: runnerkit.Client) -> list[str]:
    printed: list[str] = []

    def capture(*args: object) -> None:
        printed.append(" ".join(str(a) for a in args))

    namespace = {"client": client, "os": os, "datetime": datetime, "print": capture}
    exec(compile(source, "<reference example>", "exec"), namespace)
    return printed


def test_all_32_rpcs_have_an_example():
    assert len(EXAMPLES) == 32
    assert len({e.rpc for e in EXAMPLES}) == 32


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.rpc for e in EXAMPLES])
def test_reference_example_runs(example: Example, client, world: World):
    source = substitute(example, world)
    if example.rpc in KNOWN_UNIMPLEMENTED:
        try:
            run(source, client)
        except runnerkit.UnimplementedError:
            return
        pytest.fail(f"{example.rpc} works now: remove it from KNOWN_UNIMPLEMENTED")
    expected = EXPECTED_ERRORS.get(example.rpc) or SERVER_GAPS.get(example.rpc)
    if expected is not None:
        error_class, message = expected
        with pytest.raises(error_class) as info:
            run(source, client)
        assert message in info.value.message
        return
    printed = run(source, client)
    assert printed  # the example reached its print(); empty responses print ""
    assert not any(f'"{i}"' in source for i in EXAMPLE_IDS), source
