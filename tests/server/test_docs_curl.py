"""The curl examples of docs/server.md (and README.md), run verbatim against a live server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.support.server import running_server

ROOT = Path(__file__).resolve().parents[2]
# README.md takes part as soon as it has ```sh blocks with curl lines in the same convention
# ($URL, $TOKEN; $RUNNER_ID from the first CreateRunner answer; $GROUP_ID a fresh UUID).
DOCS = (ROOT / "docs" / "server.md", ROOT / "README.md")


def curl_commands() -> list[str]:
    text = "\n".join(doc.read_text() for doc in DOCS if doc.exists())
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    commands = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        commands += [
            line.strip() for line in joined.splitlines() if line.strip().startswith("curl ")
        ]
    return commands


def test_docs_have_an_example_per_rpc_group():
    rpcs = {m.group(1) for c in curl_commands() if (m := re.search(r"RunnerService/(\w+)", c))}
    assert {
        "CreateRunner",
        "ListRunners",
        "CreateRunnerToken",
        "CreateRunnerPolicy",
        "ParseContextURL",
    } <= rpcs


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_examples_work(tmp_path):
    with running_server(tmp_path) as (base_url, token):
        env = {
            "PATH": os.environ["PATH"],
            "URL": base_url,
            "TOKEN": token,
            "GROUP_ID": str(uuid.uuid4()),
        }
        for command in curl_commands():
            result = subprocess.run(
                ["bash", "-c", command],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=30,
            )
            body = json.loads(result.stdout)
            assert "code" not in body, (command, body)
            if "RUNNER_ID" not in env and "runner" in body:
                env["RUNNER_ID"] = body["runner"]["runnerId"]
