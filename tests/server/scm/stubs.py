"""The project's SCM test fixtures on the packaged fakes (``runnerkit.testing.fake_scm``).

``run_stub("github" | "gitlab", data=None, prefix="") -> ContextManager[Stub]`` serves a fake
on 127.0.0.1:<free port> in a background thread with ``default_data()`` (below) unless given
other data; ``stub.api_base`` is what the adapters' configuration should point at,
``stub.data`` and ``stub.switches`` may be changed while it runs, ``stub.reset()`` restores
both. ``prefix`` mounts the GitHub fake under ``/api/v3`` (GHE).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from runnerkit.testing.fake_scm import (
    RESET_EPOCH,
    SHA,
    FakeOrg,
    FakePull,
    FakeRepo,
    FakeSCM,
    FakeSCMData,
    serve_fake_scm,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from runnerkit.testing.fake_scm.request import Kind

__all__ = [
    "ALICE",
    "BOB",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "REFRESH",
    "REFUSED",
    "RESET_EPOCH",
    "SHA",
    "Stub",
    "default_data",
    "run_stub",
]

Stub = FakeSCM
ALICE = "tok-alice-S3CRET-0001"
BOB = "tok-bob-S3CRET-0002"
REFUSED = "tok-refused-S3CRET-0003"
REFRESH = "rt-alice-S3CRET-0004"
CLIENT_ID = "client-id-1"
CLIENT_SECRET = "client-S3CRET-0005"


def default_data() -> FakeSCMData:
    """alice: owner of alice/hello, reader of acme/* (7 svc repos), in 5 orgs (2 admin)."""
    svc = [
        FakeRepo("acme", f"svc-{i:02}", private=True, readers=frozenset({"alice"}))
        for i in range(1, 8)
    ]
    return FakeSCMData(
        tokens={ALICE: "alice", BOB: "bob", REFUSED: "carol"},
        refused={REFUSED},
        repos=[
            FakeRepo("alice", "hello", branches={"main": SHA, "feature/x": SHA}),
            FakeRepo("alice", "empty", branches={}),
            FakeRepo("acme", "private-app", private=True, readers=frozenset({"alice"})),
            FakeRepo("acme/platform", "api", private=True, readers=frozenset({"alice"})),
            *svc,
        ],
        orgs=[
            FakeOrg(name, {"alice": role, "bob": "member"})
            for name, role in [
                ("acme", "admin"),
                ("beta", "member"),
                ("delta", "admin"),
                ("epsilon", "member"),
                ("gamma", "member"),
            ]
        ],
        pulls=[
            FakePull("alice/hello", 1, "Add greeting", "bob", "feature/x", draft=True),
            FakePull("alice/hello", 2, "Merged change", "alice", "fix", state="merged"),
            FakePull("alice/hello", 3, "Closed change", "bob", "old", state="closed"),
        ],
        refresh_tokens={REFRESH: "alice"},
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )


@contextlib.contextmanager
def run_stub(kind: Kind, data: FakeSCMData | None = None, prefix: str = "") -> Iterator[FakeSCM]:
    """Serve a fake on 127.0.0.1:<free port> in a thread for the duration of the block."""
    with serve_fake_scm(FakeSCM(kind, data or default_data(), prefix)) as fake:
        yield fake
