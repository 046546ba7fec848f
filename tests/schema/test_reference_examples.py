"""Every request and response example of the API reference parses strictly into its message.

The examples come from tests/data/reference_examples.json, which
scripts/extract_reference_examples.py builds from the copy of the reference in tests/data
(its yaml request examples had lost their line breaks; the script rebuilds their nesting
from the schema).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format

from tests.schema.descriptors import message_class, methods

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data"
EXAMPLES = json.loads((DATA / "reference_examples.json").read_text(encoding="utf-8"))


def _message_for(example: dict[str, object]) -> type:
    method = methods()[str(example["rpc"])]
    desc = method.input_type if example["kind"] == "request" else method.output_type
    return message_class(desc)


@pytest.mark.parametrize(
    "example", EXAMPLES, ids=[f"{e['rpc']}-{e['kind']}-{i}" for i, e in enumerate(EXAMPLES)]
)
def test_example_parses_strictly_and_round_trips(example: dict[str, object]) -> None:
    cls = _message_for(example)
    parsed = json_format.Parse(json.dumps(example["json"]), cls(), ignore_unknown_fields=False)
    again = json_format.Parse(json_format.MessageToJson(parsed), cls(), ignore_unknown_fields=False)
    assert again == parsed
    # Nothing was dropped: each key of the example is a field that is now set, or holds the
    # field's default value (which proto3 JSON leaves out).
    rendered = json_format.MessageToDict(parsed, always_print_fields_with_no_presence=True)
    _assert_same_keys(example["json"], rendered, str(example["rpc"]))


def _assert_same_keys(example: object, rendered: object, path: str) -> None:
    if isinstance(example, dict):
        assert isinstance(rendered, dict), path
        missing = set(example) - set(rendered)
        assert not missing, f"{path}: {missing}"
        for key, value in example.items():
            _assert_same_keys(value, rendered[key], f"{path}.{key}")
    elif isinstance(example, list):
        assert isinstance(rendered, list), path
        assert len(example) == len(rendered), path
        for i, (a, b) in enumerate(zip(example, rendered, strict=True)):
            _assert_same_keys(a, b, f"{path}[{i}]")


def test_examples_cover_every_block_of_the_reference() -> None:
    reference = (DATA / "runner-api-reference.md").read_text(encoding="utf-8")
    kinds = [e["kind"] for e in EXAMPLES]
    assert kinds.count("request") == len(re.findall(r"```yaml\n", reference)) == 37
    # A response example that fills several members of one oneof is split into variants.
    responses = [e for e in EXAMPLES if e["kind"] == "response"]
    whole = [e for e in responses if "oneof_variant" not in e]
    split = {e["rpc"]: e["oneof_variant"].split("/")[1] for e in responses if "oneof_variant" in e}
    assert split == {
        "RunnerConfigurationService/ValidateRunnerConfiguration": "2",
        "RunnerConfigurationService/GetRunnerConfigurationSchema": "5",
    }
    assert len(whole) + len(split) == len(re.findall(r"```json\n", reference)) == 32
    assert len(responses) == len(whole) + 2 + 5


def test_every_rpc_has_a_request_and_a_response_example() -> None:
    for kind in ("request", "response"):
        assert {e["rpc"] for e in EXAMPLES if e["kind"] == kind} == set(methods())


def test_rebuilt_request_nesting() -> None:
    by_rpc = {e["rpc"]: e["json"] for e in EXAMPLES if e["kind"] == "request"}
    assert by_rpc["RunnerService/UpdateRunner"] == {
        "runnerId": "d2c94c27-3b76-4a42-b88c-95a85e392c68",
        "name": "Updated Runner Name",
        "spec": {
            "configuration": {"releaseChannel": "RUNNER_RELEASE_CHANNEL_LATEST", "autoUpdate": True}
        },
    }
    assert by_rpc["RunnerConfigurationService/CreateEnvironmentClass"]["configuration"] == [
        {"key": "cpu", "value": "8"},
        {"key": "memory", "value": "16384"},
    ]


def test_committed_examples_match_a_fresh_extraction() -> None:
    script = ROOT / "scripts" / "extract_reference_examples.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
