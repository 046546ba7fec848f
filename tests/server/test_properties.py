"""Properties: keyset pages concatenate to the full ordered list; updates are idempotent."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from runnerkit.server.domain.runners import apply_update
from runnerkit.server.storage import open_store, sqlite_url
from runnerkit.server.storage.base import PolicyRecord, RunnerQuery, RunnerRecord, SubjectRecord
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from runnerkit_proto.gitpod.v1 import runner_pb2

R = runner_pb2


def _record(n: int, created_at: int, provider: int, creator: str) -> RunnerRecord:
    return RunnerRecord(
        id=str(uuid.UUID(int=n)),
        name=f"r{n}",
        kind=rc_pb2.RUNNER_KIND_REMOTE,
        provider=provider,
        runner_manager_id="",
        creator_id=creator,
        creator_principal=2,
        spec=b"",
        status=b"",
        public_key=b"k" * 32,
        wrapped_private_key=b"w",
        created_at=created_at,
        updated_at=created_at,
    )


GROUP = "00000000-0000-4000-8000-00000000000a"
VIEWER = SubjectRecord(id="a", principal=2, name="a", group_ids=frozenset({GROUP}))


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=5),  # created_at: many ties
            st.sampled_from([1, 5, 6]),  # provider
            st.sampled_from(["a", "b", "c"]),  # creator
            st.booleans(),  # shared with the viewer's group
        ),
        max_size=40,
    ),
    page_size=st.integers(min_value=1, max_value=100),
    providers=st.lists(st.sampled_from([1, 5]), max_size=2, unique=True),
    creators=st.lists(st.sampled_from(["a", "b"]), max_size=2, unique=True),
    as_viewer=st.booleans(),
)
def test_pages_concatenate_to_the_full_ordered_list(
    rows: list[tuple[int, int, str, bool]],
    page_size: int,
    providers: list[int],
    creators: list[str],
    as_viewer: bool,
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = open_store(sqlite_url(Path(directory) / "p.db"))
        try:
            records = [_record(n + 1, t, p, c) for n, (t, p, c, _) in enumerate(rows)]
            for record, (_, _, _, shared) in zip(records, rows, strict=True):
                store.insert_runner(record, [])
                if shared:
                    store.insert_policy(PolicyRecord(record.id, GROUP, 2), now=0)
            query = RunnerQuery(
                visible_to=VIEWER if as_viewer else None, creator_ids=creators, providers=providers
            )
            expected = sorted(
                (
                    r
                    for r, (_, _, _, shared) in zip(records, rows, strict=True)
                    if (not providers or r.provider in providers)
                    and (not creators or r.creator_id in creators)
                    and (not as_viewer or r.creator_id == VIEWER.id or shared)
                ),
                key=lambda r: (r.created_at, r.id),
            )
            seen: list[str] = []
            after: tuple[int, str] | None = None
            while True:
                page = store.list_runners(query, after, page_size)
                seen += [r.id for r in page]
                if len(page) < page_size:
                    break
                after = (page[-1].created_at, page[-1].id)
            assert seen == [r.id for r in expected]
        finally:
            store.close()


@given(
    name=st.one_of(st.none(), st.text(min_size=1, max_size=20).filter(str.strip)),
    auto_update=st.one_of(st.none(), st.booleans()),
    start=st.one_of(st.none(), st.integers(min_value=0, max_value=23)),
)
def test_applying_the_same_update_twice_is_a_no_op(
    name: str | None, auto_update: bool | None, start: int | None
) -> None:
    config = R.UpdateRunnerRequest.RunnerConfiguration()
    if auto_update is not None:
        config.auto_update = auto_update
    if start is not None:
        config.update_window.start_hour = start
    request = R.UpdateRunnerRequest(spec=R.UpdateRunnerRequest.Spec(configuration=config))
    if name is not None:
        request.name = name
    spec = R.RunnerSpec(
        configuration=R.RunnerConfiguration(release_channel=R.RUNNER_RELEASE_CHANNEL_STABLE)
    )
    once = apply_update("old", rc_pb2.RUNNER_KIND_REMOTE, spec, request)
    twice = apply_update(once.name, rc_pb2.RUNNER_KIND_REMOTE, once.spec, request)
    assert twice.name == once.name
    assert twice.spec.SerializeToString(deterministic=True) == once.spec.SerializeToString(
        deterministic=True
    )
