"""The reference's Python examples, rebuilt into runnable code for our client.

The copy of the reference in ``tests/data`` lost its line breaks, so each ```python block is
one line. Statements are split where a bracket closes at depth 0 and a new identifier
follows; the ``from gitpod import Gitpod`` import and the ``Gitpod(...)`` constructor are
dropped (the test provides ``client``, ``os`` and ``datetime``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

REFERENCE = Path(__file__).parents[1] / "data" / "runner-api-reference.md"

_HEADING = re.compile(r"^## (\w+) `([\w.]+)\(", re.MULTILINE)
_BLOCK = re.compile(r"```python\n(.*?)\n```", re.DOTALL)
_CONSTRUCTOR = re.compile(r"from gitpod import Gitpod client = Gitpod\((?:[^()]|\([^()]*\))*\)\s*")
_DROPPED_IMPORTS = ("import os ", "from datetime import datetime ")
_CALL = re.compile(r"client\.((?:\w+\.)*\w+)\(")


@dataclass(frozen=True)
class Example:
    """One rebuilt example."""

    rpc: str  # e.g. "CreateRunner"
    facade: str  # e.g. "runners.create"
    source: str  # runnable Python, one statement per line
    original: str


def split_statements(code: str) -> list[str]:
    """Split one-line Python into statements at depth-0 boundaries."""
    statements: list[str] = []
    depth = 0
    quote: str | None = None
    start = 0
    i = 0
    while i < len(code):
        ch = code[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            rest = code[i + 1 :]
            if depth == 0 and re.match(r"\s+[A-Za-z_]", rest):
                statements.append(code[start : i + 1].strip())
                start = i + 1
        i += 1
    tail = code[start:].strip()
    if tail:
        statements.append(tail)
    return statements


def load_examples(path: Path = REFERENCE) -> list[Example]:
    """Every ```python example of the reference, with its RPC name."""
    text = path.read_text(encoding="utf-8")
    headings = [(m.start(), m.group(1), m.group(2)) for m in _HEADING.finditer(text)]
    examples = []
    for block in _BLOCK.finditer(text):
        rpc, facade = next((r, f) for pos, r, f in reversed(headings) if pos < block.start())
        original = block.group(1).strip()
        code = original + " "
        for imp in _DROPPED_IMPORTS:
            code = code.replace(imp, "", 1)
        code, n = _CONSTRUCTOR.subn("", code, count=1)
        if n != 1:
            raise ValueError(f"unexpected constructor in the {rpc} example: {original}")
        source = "\n".join(split_statements(code.strip())) + "\n"
        ast.parse(source)
        call = _CALL.search(source)
        if call is None or call.group(1) != facade:
            raise ValueError(f"{rpc} example does not call {facade}: {source}")
        examples.append(Example(rpc=rpc, facade=facade, source=source, original=original))
    return examples
