"""The auth interceptor's cache of token subjects: expiry, bounds, and switching it off."""

from __future__ import annotations

from runnerkit.server.auth import SubjectCache
from runnerkit.server.storage.base import SubjectRecord
from runnerkit_proto.gitpod.v1 import identity_pb2


def _subject(name: str) -> SubjectRecord:
    return SubjectRecord(id=f"id-{name}", principal=identity_pb2.PRINCIPAL_USER, name=name)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl():
    clock = Clock()
    cache = SubjectCache(ttl_s=2.0, clock=clock)
    alice = _subject("alice")
    assert cache.get("h1") is None
    cache.put("h1", alice)
    clock.now += 1.99
    assert cache.get("h1") == alice
    clock.now += 0.01
    assert cache.get("h1") is None  # expired: the next request reads the store again


def test_least_recently_used_entries_go_first():
    cache = SubjectCache(ttl_s=60.0, max_entries=2, clock=Clock())
    cache.put("a", _subject("a"))
    cache.put("b", _subject("b"))
    assert cache.get("a") is not None  # "a" is now the most recently used
    cache.put("c", _subject("c"))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


def test_zero_ttl_disables_the_cache():
    cache = SubjectCache(ttl_s=0, clock=Clock())
    cache.put("h", _subject("x"))
    assert cache.get("h") is None
