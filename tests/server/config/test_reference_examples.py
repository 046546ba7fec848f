"""The reference's example requests for RunnerConfigurationService, as plain JSON with curl.

Each example request of ``tests/data/reference_examples.json`` (kind ``request``) is sent to a
live server with ``curl``, its example ids replaced by ids of objects created first; each
answer must succeed and have the documented shape: every key is one the reference's example
responses for that RPC show, with a value of the same JSON type.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import create_user, running_server

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "reference_examples.json"
SERVICE = "RunnerConfigurationService/"
# Sent in this order, so that every id an example names exists when it is sent.
ORDER = [
    "GetRunnerConfigurationSchema",
    "CreateSCMIntegration",
    "ValidateRunnerConfiguration",
    "GetSCMIntegration",
    "ListSCMIntegrations",
    "UpdateSCMIntegration",
    "CreateEnvironmentClass",
    "GetEnvironmentClass",
    "ListEnvironmentClasses",
    "UpdateEnvironmentClass",
    "CreateHostAuthenticationToken",
    "GetHostAuthenticationToken",
    "ListHostAuthenticationTokens",
    "UpdateHostAuthenticationToken",
    "DeleteHostAuthenticationToken",
    "DeleteSCMIntegration",
]
TOKEN_RPCS = {r for r in ORDER if "HostAuthenticationToken" in r}

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def examples() -> list[dict[str, Any]]:
    return [e for e in json.loads(EXAMPLES.read_text()) if e["rpc"].startswith(SERVICE)]


def post(base_url: str, token: str, path: str, body: dict[str, Any]) -> Any:
    result = subprocess.run(
        [
            "curl",
            "-sS",
            "-X",
            "POST",
            f"{base_url}/gitpod.v1.{path}",
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            "@-",
        ],
        input=json.dumps(body),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(result.stdout)


def shape_errors(value: Any, documented: list[Any], where: str) -> list[str]:
    """Where ``value`` has a key or JSON type that none of the documented values have."""
    kinds = {type(d) for d in documented}
    if int in kinds or float in kinds:
        kinds |= {int, float}
    if type(value) not in kinds:
        return [f"{where}: {type(value).__name__}, documented {sorted(k.__name__ for k in kinds)}"]
    if isinstance(value, dict):
        errors = []
        for key, item in value.items():
            known = [d[key] for d in documented if isinstance(d, dict) and key in d]
            if not known:
                errors.append(f"{where}.{key}: not documented")
            else:
                errors += shape_errors(item, known, f"{where}.{key}")
        return errors
    if isinstance(value, list):
        elements = [e for d in documented if isinstance(d, list) for e in d]
        return [err for item in value for err in shape_errors(item, elements, f"{where}[]")]
    return []


def substitute(rpc: str, body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    body = json.loads(json.dumps(body))
    if "runnerId" in body:
        body["runnerId"] = ids["runner"]
    if "runnerId" in body.get("filter", {}):
        body["filter"]["runnerId"] = ids["runner"]
    if "runnerIds" in body.get("filter", {}):
        body["filter"]["runnerIds"] = [ids["runner"]]
    if "userId" in body:
        body["userId"] = ids["user"]
    if "environmentClassId" in body:
        body["environmentClassId"] = ids["class"]
    if "id" in body:
        body["id"] = ids["token"] if rpc in TOKEN_RPCS else ids["integration"]
    if "id" in body.get("scmIntegration", {}):
        body["scmIntegration"]["id"] = ids["integration"]
    return body


def test_reference_examples_with_curl(tmp_path):
    all_examples = examples()
    requests = [e for e in all_examples if e["kind"] == "request"]
    assert {e["rpc"].removeprefix(SERVICE) for e in requests} == set(ORDER)
    documented: dict[str, list[Any]] = {}
    for e in all_examples:
        if e["kind"] == "response":
            documented.setdefault(e["rpc"], []).append(e["json"])
    requests.sort(key=lambda e: ORDER.index(e["rpc"].removeprefix(SERVICE)))
    with running_server(tmp_path) as (base_url, admin):
        runner = post(
            base_url,
            admin,
            "RunnerService/CreateRunner",
            {"name": "examples", "provider": "RUNNER_PROVIDER_AWS_EC2"},
        )
        user_id, _ = create_user(tmp_path, name="example user")
        ids = {"runner": runner["runner"]["runnerId"], "user": user_id}
        for example in requests:
            rpc = example["rpc"]
            answer = post(
                base_url, admin, rpc, substitute(rpc.removeprefix(SERVICE), example["json"], ids)
            )
            assert "code" not in answer, (rpc, answer)
            assert shape_errors(answer, documented[rpc], rpc) == []
            name = rpc.removeprefix(SERVICE)
            if name == "CreateSCMIntegration":
                ids["integration"] = answer["id"]
            elif name == "CreateEnvironmentClass":
                ids["class"] = answer["id"]
            elif name == "CreateHostAuthenticationToken":
                ids["token"] = answer["token"]["id"]
                assert answer["token"]["expiresAt"] == "2024-12-31T23:59:59Z"
                assert answer["token"]["userId"] == user_id
            elif name == "ValidateRunnerConfiguration":
                assert answer == {"scmIntegration": {"valid": True}}
            elif name in ("GetEnvironmentClass", "GetSCMIntegration", "GetHostAuthenticationToken"):
                assert answer  # the object itself, not an empty message
        # Query-string paging overrides the body; Connect GET serves NO_SIDE_EFFECTS reads.
        post(
            base_url,
            admin,
            SERVICE + "CreateEnvironmentClass",
            {"runnerId": ids["runner"], "displayName": "2nd", "description": "Second class"},
        )
        first = post(
            base_url,
            admin,
            SERVICE + "ListEnvironmentClasses?pageSize=1",
            {"pagination": {"pageSize": 50}},
        )
        assert len(first["environmentClasses"]) == 1
        assert first["pagination"]["nextToken"]
        message = urllib.parse.quote(json.dumps({"runnerId": ids["runner"]}))
        result = subprocess.run(
            [
                "curl",
                "-sS",
                "-H",
                f"Authorization: Bearer {admin}",
                (
                    f"{base_url}/gitpod.v1.{SERVICE}GetRunnerConfigurationSchema"
                    f"?connect=v1&encoding=json&message={message}"
                ),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        schema = json.loads(result.stdout)
        assert (
            shape_errors(schema, documented[SERVICE + "GetRunnerConfigurationSchema"], "GET") == []
        )
        assert schema["schema"]["version"]
        # Timestamps with an offset, or none (read as UTC), round-trip as UTC.
        for sent, expected in (
            ("2030-01-02T03:04:05+02:00", "2030-01-02T01:04:05Z"),
            ("2030-01-02T03:04:05", "2030-01-02T03:04:05Z"),
            ("2030-01-02T03:04:05.250Z", "2030-01-02T03:04:05.250Z"),
        ):
            created = post(
                base_url,
                admin,
                SERVICE + "CreateHostAuthenticationToken",
                {"runnerId": ids["runner"], "host": "gitlab.com", "token": "t", "expiresAt": sent},
            )
            assert created["token"]["expiresAt"] == expected, created
            token_id = created["token"]["id"]
            got = post(base_url, admin, SERVICE + "GetHostAuthenticationToken", {"id": token_id})
            assert got["token"]["expiresAt"] == expected
            post(base_url, admin, SERVICE + "DeleteHostAuthenticationToken", {"id": token_id})
        # Invalid input answers with the Connect error shape and the per-field detail.
        error = post(
            base_url,
            admin,
            SERVICE + "CreateEnvironmentClass",
            {
                "runnerId": ids["runner"],
                "displayName": "Tiny",
                "description": "Too small",
                "configuration": [{"key": "cpu", "value": "0"}],
            },
        )
        assert error["code"] == "invalid_argument"
        assert "configuration[cpu]" in error["message"]
        assert [d["type"] for d in error["details"]] == [
            "gitpod.v1.EnvironmentClassValidationResult"
        ]
