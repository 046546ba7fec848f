"""Shared pytest configuration: every test starts from a clean environment."""

from __future__ import annotations

import os

import pytest

_OWN_PREFIXES = ("GITPOD_", "RUNNERKIT_")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop GITPOD_*/RUNNERKIT_* variables so a developer's shell cannot leak into tests."""
    for name in list(os.environ):
        if name.startswith(_OWN_PREFIXES):
            monkeypatch.delenv(name)
