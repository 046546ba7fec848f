"""Extract the API reference's request and response examples into test data.

The reference (``tests/data/runner-api-reference.md``, a copy of the API reference) shows
each RPC's example requests as ``yaml`` blocks whose line breaks were lost, so their
nesting is gone (``spec: desiredPhase: X configuration: region: "us"``). This script
rebuilds the nesting from the compiled schema — a key that is not a field of the current
message closes it — and writes every request and response example as JSON to
``tests/data/reference_examples.json``, keyed by the RPC they belong to.

Usage: ``python scripts/extract_reference_examples.py [--check]``; ``--check`` exits 1
when the committed JSON differs from a fresh extraction.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "data" / "runner-api-reference.md"
OUTPUT = ROOT / "tests" / "data" / "reference_examples.json"

JSONValue = str | int | float | bool | list["JSONValue"] | dict[str, "JSONValue"]

_SECTION = re.compile(r"^## \w+ `[^`]*` \*\*post\*\* `/gitpod\.v1\.(\w+)/(\w+)`", re.MULTILINE)
_BLOCK = re.compile(r"```(yaml|json)\n(.*?)\n```", re.DOTALL)
# yaml tokens: a list-item dash, a key, a quoted string, a [...] list, or a bare word.
_TOKEN = re.compile(
    r'\s*(?:(?P<dash>-)\s|(?P<key>\w+):|(?P<str>"[^"]*")|(?P<list>\[[^\]]*\])|(?P<word>[^\s\[\]"]+))'
)


def _methods() -> dict[tuple[str, str], MethodDescriptor]:
    out: dict[tuple[str, str], MethodDescriptor] = {}
    for module in (runner_pb2, runner_configuration_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                out[(service.name, method.name)] = method
    return out


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot tokenise example at {text[pos:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def _scalar(kind: str, raw: str) -> JSONValue:
    if kind in {"str", "list"}:
        value: JSONValue = json.loads(raw)
        return value
    if raw in {"true", "false"}:
        return raw == "true"
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return raw  # an enum value name


def _field(message: Descriptor, key: str) -> FieldDescriptor | None:
    for field in message.fields:
        if key in {field.json_name, field.name}:
            return field
    return None


def rebuild(text: str, message: Descriptor) -> dict[str, JSONValue]:
    """Rebuild a flattened yaml example into nested JSON, guided by ``message``."""
    tokens = _tokens(text)
    root: dict[str, JSONValue] = {}
    # Open scopes, innermost last: (descriptor, the dict being filled).
    stack: list[tuple[Descriptor, dict[str, JSONValue]]] = [(message, root)]
    i = 0
    while i < len(tokens):
        kind, raw = tokens[i]
        if kind != "key":
            raise ValueError(f"expected a key in {text!r}, got {raw!r}")
        while (field := _field(stack[-1][0], raw)) is None:
            stack.pop()
            if not stack:
                raise ValueError(f"{raw!r} is no field of {message.full_name} in {text!r}")
        target = stack[-1][1]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ("end", "")
        if field.message_type is None or nxt[0] in {"str", "list", "word"}:
            target[field.json_name] = _scalar(*nxt)
            i += 2
        elif nxt[0] == "dash":
            # A repeated message: each dash opens one item.
            items: list[JSONValue] = []
            target[field.json_name] = items
            i += 1
            while i < len(tokens) and tokens[i][0] == "dash":
                end = i + 1
                while end < len(tokens) and tokens[end][0] != "dash":
                    end += 1
                chunk = " ".join(t[1] if t[0] != "key" else t[1] + ":" for t in tokens[i + 1 : end])
                items.append(rebuild(chunk, field.message_type))
                i = end
        else:
            child: dict[str, JSONValue] = {}
            target[field.json_name] = child
            stack.append((field.message_type, child))
            i += 1
    return root


def _oneof_groups(message: Descriptor, body: dict[str, JSONValue]) -> list[list[str]]:
    """The JSON keys of ``body`` that sit together in one real oneof of ``message``."""
    groups = []
    for oneof in message.oneofs:
        keys = [f.json_name for f in oneof.fields if f.json_name in body]
        # A synthetic oneof (proto3 optional) has one member and can never clash.
        if len(keys) > 1:
            groups.append(keys)
    return groups


def _fan_out(message: Descriptor, body: JSONValue) -> int:
    """How many variants it takes to show every oneof member ``body`` sets."""
    if not isinstance(body, dict):
        return 1
    widest = max((len(g) for g in _oneof_groups(message, body)), default=1)
    for key, value in body.items():
        field = _field(message, key)
        if field is not None and field.message_type is not None:
            items = value if isinstance(value, list) else [value]
            widest = max([widest, *(_fan_out(field.message_type, item) for item in items)])
    return widest


def _variant(message: Descriptor, body: JSONValue, k: int) -> JSONValue:
    """``body`` with every oneof keeping only its ``k``-th present member (mod their count)."""
    if not isinstance(body, dict):
        return body
    dropped = set()
    for keys in _oneof_groups(message, body):
        dropped |= set(keys) - {keys[k % len(keys)]}
    out: dict[str, JSONValue] = {}
    for key, value in body.items():
        if key in dropped:
            continue
        field = _field(message, key)
        if field is None or field.message_type is None:
            out[key] = value
        elif isinstance(value, list):
            out[key] = [_variant(field.message_type, item, k) for item in value]
        else:
            out[key] = _variant(field.message_type, value, k)
    return out


def split_oneofs(message: Descriptor, body: dict[str, JSONValue]) -> list[JSONValue]:
    """Split an example that sets several members of one oneof into one example per member.

    Two response examples of the reference fill every member of a oneof at once
    (ValidateRunnerConfiguration's ``result``, the schema's field ``type``), which protobuf
    JSON rejects; each variant keeps one member so that the whole example is still covered.
    """
    return [_variant(message, body, k) for k in range(_fan_out(message, body))]


def extract(reference: str) -> list[dict[str, JSONValue]]:
    """Return every example of the reference, in document order."""
    methods = _methods()
    examples: list[dict[str, JSONValue]] = []
    sections = list(_SECTION.finditer(reference))
    for n, section in enumerate(sections):
        end = sections[n + 1].start() if n + 1 < len(sections) else len(reference)
        method = methods[(section.group(1), section.group(2))]
        rpc = f"{section.group(1)}/{section.group(2)}"
        for block in _BLOCK.finditer(reference, section.end(), end):
            if block.group(1) == "yaml":
                request = rebuild(block.group(2), method.input_type)
                examples.append({"rpc": rpc, "kind": "request", "json": request})
            else:
                variants = split_oneofs(method.output_type, json.loads(block.group(2)))
                for k, variant in enumerate(variants):
                    entry: dict[str, JSONValue] = {"rpc": rpc, "kind": "response", "json": variant}
                    if len(variants) > 1:
                        entry["oneof_variant"] = f"{k + 1}/{len(variants)}"
                    examples.append(entry)
    return examples


def main(argv: list[str]) -> int:
    """Write the examples, or with ``--check`` report whether the committed ones are stale."""
    rendered = json.dumps(extract(REFERENCE.read_text(encoding="utf-8")), indent=2) + "\n"
    if "--check" in argv:
        if OUTPUT.read_text(encoding="utf-8") != rendered:
            print(f"{OUTPUT} is stale: run scripts/extract_reference_examples.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
