"""Docs speak to users: they name no file that is not in the repository, and no work "parts"."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = [ROOT / "README.md", ROOT / "DEVELOPMENT.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCES = sorted(p for d in ("src", "scripts") for p in (ROOT / d).rglob("*.py"))
# Files of the people who wrote runnerkit, not of the repository.
ABSENT = re.compile(r"\b(DESIGN\.md|SEMANTICS\.md|STYLE\.md|TOOLCHAIN\.md)|\bshared/")
PARTS = re.compile(r"\b[Pp]art[ -][0-9]\b|\(part [0-9]")


def test_no_reference_to_files_outside_the_repository():
    offenders = []
    for path in DOCS + SOURCES:
        text = path.read_text(encoding="utf-8")
        found = ABSENT.findall(text) + PARTS.findall(text)
        if found:
            offenders.append((str(path.relative_to(ROOT)), found))
    assert offenders == []


def test_the_patterns_catch_what_they_should():
    assert ABSENT.search("see DESIGN.md")
    assert ABSENT.search("(`shared/seed/x.md`)")
    assert PARTS.search("in part 1 (no expiry)")
    assert not PARTS.search("(part of `make gen`)")
