"""The request journal on its own: which calls it keeps across a clear."""

from __future__ import annotations

from datetime import UTC, datetime

from runnerkit.server.testapi.journal import Journal, JournalEntry


def _entry(rpc: str) -> JournalEntry:
    return JournalEntry(
        rpc=rpc,
        service="gitpod.v1.RunnerService",
        protocol="connect",
        code="ok",
        subject_id="",
        duration_s=0.0,
        time=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_a_call_started_before_a_clear_is_dropped_and_one_started_after_is_kept():
    journal = Journal()
    before = journal.generation
    journal.append(_entry("GetRunner"), started_in=before)
    journal.clear()
    assert len(journal) == 0
    journal.append(_entry("ListRunners"), started_in=before)  # was in flight at the clear
    after = journal.generation
    assert after != before
    journal.append(_entry("CreateRunner"), started_in=after)
    journal.append(_entry("DeleteRunner"))  # no generation: always kept
    assert [e.rpc for e in journal] == ["CreateRunner", "DeleteRunner"]


def test_at_most_max_entries_are_kept_newest_last():
    journal = Journal(max_entries=2)
    for rpc in ("A", "B", "C"):
        journal.append(_entry(rpc), started_in=journal.generation)
    assert [e.rpc for e in journal] == ["B", "C"]
