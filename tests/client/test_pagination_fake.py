"""Pagination mechanics against the fake API (the real-server version is in test_real_server)."""

from __future__ import annotations

import asyncio

import pytest

import runnerkit
from runnerkit.client.pagination import items_field
from runnerkit_proto.gitpod.v1 import runner_pb2
from tests.client.fake_api import Failure

BEARER = "bearer-value-for-tests"


@pytest.fixture
def seeded(fake):
    url, state = fake
    client = runnerkit.Client(base_url=url, bearer_token=BEARER)
    ids = [client.runners.create(name=f"r{i}").runner.runner_id for i in range(61)]
    state.calls.clear()
    return url, state, ids


def test_sync_auto_pagination_sees_each_item_once_lazily(seeded):
    url, state, ids = seeded
    client = runnerkit.Client(base_url=url, bearer_token=BEARER)
    page = client.runners.list(page_size=7)
    assert state.calls["ListRunners"] == 1
    assert len(page.items) == 7
    assert page.runners[0].runner_id == ids[0]
    assert page.has_next_page()
    assert page.next_token == "7"
    seen = [r.runner_id for r in page]
    assert seen == ids
    assert state.calls["ListRunners"] == 9
    pages = list(page.iter_pages())
    assert [len(p.items) for p in pages] == [7] * 8 + [5]
    assert not pages[-1].has_next_page()
    assert pages[-1].get_next_page() is None
    assert all(
        r.pagination.page_size == 7 for name, _, r in state.requests if name == "ListRunners"
    )


def test_pagination_kwarg_forms_are_equivalent(seeded):
    url, _, _ = seeded
    client = runnerkit.Client(base_url=url, bearer_token=BEARER)
    a = client.runners.list(pagination={"page_size": 20})
    b = client.runners.list(page_size=20)
    c = client.runners.list({"pagination": {"pageSize": 20}})
    assert [len(p.items) for p in (a, b, c)] == [20, 20, 20]


def test_retry_in_the_middle_of_pagination(seeded):
    url, state, ids = seeded
    client = runnerkit.Client(
        base_url=url,
        bearer_token=BEARER,
        retry_policy=runnerkit.RetryPolicy(sleep=lambda _: None),
    )
    page = client.runners.list(page_size=30)
    state.failures["ListRunners"] = Failure(1)
    assert [r.runner_id for r in page] == ids


def test_async_auto_pagination(seeded):
    url, _, ids = seeded

    async def main() -> tuple[list[str], list[int]]:
        async with runnerkit.AsyncClient(base_url=url, bearer_token=BEARER) as client:
            page = await client.runners.list(page_size=7)
            assert page.runners[0].runner_id == ids[0]
            seen = [r.runner_id async for r in page]
            sizes = [len(p.items) async for p in page.iter_pages()]
            return seen, sizes

    seen, sizes = asyncio.run(main())
    assert seen == ids
    assert sizes == [7] * 8 + [5]


def test_generic_paginate_over_generated_clients(seeded):
    url, _, ids = seeded
    client = runnerkit.Client(base_url=url, bearer_token=BEARER)
    request = runner_pb2.ListRunnersRequest()
    request.pagination.page_size = 9
    page = runnerkit.paginate(client.runner_service.list_runners, request)
    assert [r.runner_id for r in page] == ids
    assert request.pagination.token == ""

    async def main() -> list[str]:
        aclient = runnerkit.AsyncClient(base_url=url, bearer_token=BEARER)
        apage = await runnerkit.apaginate(aclient.runner_service.list_runners, request)
        return [r.runner_id async for r in apage]

    assert asyncio.run(main()) == ids


def test_items_field_detection():
    assert items_field(runner_pb2.ListRunnersResponse) == "runners"
    assert items_field(runner_pb2.ListRunnerPoliciesResponse) == "policies"
    with pytest.raises(TypeError):
        items_field(runner_pb2.GetRunnerResponse)


def test_page_repr_and_response(seeded):
    url, _, _ = seeded
    page = runnerkit.Client(base_url=url, bearer_token=BEARER).runners.list(page_size=7)
    assert repr(page) == "Page(runners=7, next_token='7')"
    assert isinstance(page.response, runner_pb2.ListRunnersResponse)
