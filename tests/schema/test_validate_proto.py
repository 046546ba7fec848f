"""proto/buf/validate/validate.proto is protovalidate's own schema, rebuilt reproducibly.

``scripts/rebuild_validate_proto.py`` renders the descriptor the installed protovalidate
ships; the committed file is exactly its output, and buf compiles that file back to the
original descriptor (every field, option and rule expression).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent.parent
COMMITTED = ROOT / "proto" / "buf" / "validate" / "validate.proto"


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "rebuild_validate_proto", ROOT / "scripts" / "rebuild_validate_proto.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("rebuild_validate_proto", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def buf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUF_CACHE_DIR", str(tmp_path_factory.mktemp("buf-cache")))


def test_committed_file_is_the_scripts_output(script: ModuleType) -> None:
    serialized, licence, version = script.source()
    assert script.buf_format(script.render(serialized, licence, version)) == COMMITTED.read_text(
        encoding="utf-8"
    )


def test_it_keeps_the_apache_licence_notice() -> None:
    head = COMMITTED.read_text(encoding="utf-8")[:1200]
    assert "Buf Technologies" in head
    assert "Licensed under the Apache License, Version 2.0" in head


def test_buf_compiles_it_to_the_original_descriptor(script: ModuleType) -> None:
    serialized, _, _ = script.source()
    assert script.differences(serialized, script.compiled(ROOT / "proto")) == []
