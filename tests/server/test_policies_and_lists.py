"""Runner policies and keyset pagination with filters, over all four transports."""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any

from connectrpc.code import Code

from runnerkit_proto.gitpod.v1 import pagination_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from tests.support.server import create_user

if TYPE_CHECKING:
    from tests.server.harness import Api

R = runner_pb2
AWS = rc_pb2.RUNNER_PROVIDER_AWS_EC2
GCP = rc_pb2.RUNNER_PROVIDER_GCP


def _runner(api: Api, token: str | None = None, **fields: Any) -> str:
    fields.setdefault("name", "runner")
    fields.setdefault("provider", AWS)
    return str(api("create_runner", R.CreateRunnerRequest(**fields), token).runner.runner_id)


def test_policy_lifecycle(api):
    rid = _runner(api)
    group = str(uuid.uuid4())
    created = api(
        "create_runner_policy",
        R.CreateRunnerPolicyRequest(runner_id=rid, group_id=group, role=R.RUNNER_ROLE_USER),
    )
    assert created.policy == R.RunnerPolicy(group_id=group, role=R.RUNNER_ROLE_USER)
    api.fails(
        "create_runner_policy",
        R.CreateRunnerPolicyRequest(runner_id=rid, group_id=group, role=R.RUNNER_ROLE_ADMIN),
        Code.ALREADY_EXISTS,
    )
    updated = api(
        "update_runner_policy",
        R.UpdateRunnerPolicyRequest(runner_id=rid, group_id=group, role=R.RUNNER_ROLE_ADMIN),
    )
    assert updated.policy.role == R.RUNNER_ROLE_ADMIN
    listed = api("list_runner_policies", R.ListRunnerPoliciesRequest(runner_id=rid))
    assert list(listed.policies) == [updated.policy]
    assert listed.pagination.next_token == ""
    api("delete_runner_policy", R.DeleteRunnerPolicyRequest(runner_id=rid, group_id=group))
    assert not api("list_runner_policies", R.ListRunnerPoliciesRequest(runner_id=rid)).policies
    api.fails(
        "delete_runner_policy",
        R.DeleteRunnerPolicyRequest(runner_id=rid, group_id=group),
        Code.NOT_FOUND,
    )
    api.fails(
        "update_runner_policy",
        R.UpdateRunnerPolicyRequest(runner_id=rid, group_id=group, role=R.RUNNER_ROLE_USER),
        Code.NOT_FOUND,
    )


def test_policy_errors(api):
    rid = _runner(api)
    group = str(uuid.uuid4())
    bad_group = api.fails(
        "create_runner_policy",
        R.CreateRunnerPolicyRequest(runner_id=rid, group_id="g", role=R.RUNNER_ROLE_ADMIN),
        Code.INVALID_ARGUMENT,
    )
    assert bad_group.startswith("group_id:")
    no_role = api.fails(
        "create_runner_policy",
        R.CreateRunnerPolicyRequest(runner_id=rid, group_id=group),
        Code.INVALID_ARGUMENT,
    )
    assert no_role.startswith("role:")
    api.fails(
        "create_runner_policy",
        R.CreateRunnerPolicyRequest(
            runner_id=str(uuid.uuid4()), group_id=group, role=R.RUNNER_ROLE_ADMIN
        ),
        Code.NOT_FOUND,
    )
    _, member = create_user(api.directory, name="member", groups=[group])
    api(
        "create_runner_policy",
        R.CreateRunnerPolicyRequest(runner_id=rid, group_id=group, role=R.RUNNER_ROLE_USER),
    )
    # USER may read the runner but not manage its policies
    api.fails(
        "list_runner_policies",
        R.ListRunnerPoliciesRequest(runner_id=rid),
        Code.PERMISSION_DENIED,
        member,
    )
    api.fails(
        "create_runner_policy",
        R.CreateRunnerPolicyRequest(
            runner_id=rid, group_id=str(uuid.uuid4()), role=R.RUNNER_ROLE_ADMIN
        ),
        Code.PERMISSION_DENIED,
        member,
    )
    # a group ADMIN policy makes its members admins of the runner
    api(
        "update_runner_policy",
        R.UpdateRunnerPolicyRequest(runner_id=rid, group_id=group, role=R.RUNNER_ROLE_ADMIN),
    )
    assert api("list_runner_policies", R.ListRunnerPoliciesRequest(runner_id=rid), member).policies


def test_policies_page_in_group_id_order(api):
    rid = _runner(api)
    groups = sorted(str(uuid.uuid4()) for _ in range(7))
    for group in reversed(groups):
        api(
            "create_runner_policy",
            R.CreateRunnerPolicyRequest(runner_id=rid, group_id=group, role=R.RUNNER_ROLE_USER),
        )
    seen, token = [], ""
    while True:
        page = api(
            "list_runner_policies",
            R.ListRunnerPoliciesRequest(
                runner_id=rid, pagination=pagination_pb2.PaginationRequest(page_size=3, token=token)
            ),
        )
        seen += [p.group_id for p in page.policies]
        token = page.pagination.next_token
        if not token:
            break
    assert seen == groups


def _all_pages(api: Api, request: Any, token: str | None = None) -> tuple[list[str], int]:
    pages, runners = 0, list[str]()
    while True:
        page = api("list_runners", request, token)
        pages += 1
        runners += [r.runner_id for r in page.runners]
        if not page.pagination.next_token:
            return runners, pages
        request.pagination.token = page.pagination.next_token


def test_list_runners_pages_with_filters(api):
    _, creator_token = create_user(api.directory, name="creator", runner_creator=True)
    aws = [_runner(api, name=f"aws{i}") for i in range(5)]
    gcp = [_runner(api, name=f"gcp{i}", provider=GCP) for i in range(3)]
    local = [
        _runner(api, creator_token, name=f"local{i}", kind=rc_pb2.RUNNER_KIND_LOCAL, provider=0)
        for i in range(4)
    ]
    everything, pages = _all_pages(
        api, R.ListRunnersRequest(pagination=pagination_pb2.PaginationRequest(page_size=5))
    )
    assert everything == aws + gcp + local  # creation order
    assert pages == 3
    remote, _ = _all_pages(
        api,
        R.ListRunnersRequest(
            pagination=pagination_pb2.PaginationRequest(page_size=2),
            filter=R.ListRunnersRequest.Filter(
                kinds=[rc_pb2.RUNNER_KIND_REMOTE], providers=[GCP, AWS]
            ),
        ),
    )
    assert remote == aws + gcp
    only_gcp, _ = _all_pages(
        api,
        R.ListRunnersRequest(
            pagination=pagination_pb2.PaginationRequest(page_size=1),
            filter=R.ListRunnersRequest.Filter(providers=[GCP]),
        ),
    )
    assert only_gcp == gcp
    creator_id = api("get_runner", R.GetRunnerRequest(runner_id=local[0])).runner.creator.id
    by_creator, _ = _all_pages(
        api, R.ListRunnersRequest(filter=R.ListRunnersRequest.Filter(creator_ids=[creator_id]))
    )
    assert by_creator == local
    # the creator sees only their own runners, and a page of exactly page_size ends the list
    own, pages = _all_pages(
        api,
        R.ListRunnersRequest(pagination=pagination_pb2.PaginationRequest(page_size=4)),
        creator_token,
    )
    assert own == local
    assert pages == 1


def test_items_created_while_paging_cause_no_duplicates(api):
    first = [_runner(api) for _ in range(3)]
    page = api(
        "list_runners",
        R.ListRunnersRequest(pagination=pagination_pb2.PaginationRequest(page_size=2)),
    )
    later = _runner(api)
    rest = api(
        "list_runners",
        R.ListRunnersRequest(
            pagination=pagination_pb2.PaginationRequest(
                page_size=2, token=page.pagination.next_token
            )
        ),
    )
    assert [r.runner_id for r in page.runners] + [r.runner_id for r in rest.runners] == [
        *first,
        later,
    ]


def test_page_tokens_rejected_when_altered_foreign_or_reused_with_another_filter(api):
    for _ in range(3):
        _runner(api)
    rid = _runner(api, provider=GCP)
    page = api(
        "list_runners",
        R.ListRunnersRequest(pagination=pagination_pb2.PaginationRequest(page_size=1)),
    )
    token = page.pagination.next_token
    payload, mac = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[-3] ^= 1
    altered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode() + "." + mac
    for bad in (altered, token[:-2], "garbage", token + "x"):
        message = api.fails(
            "list_runners",
            R.ListRunnersRequest(pagination=pagination_pb2.PaginationRequest(token=bad)),
            Code.INVALID_ARGUMENT,
        )
        assert message.startswith("pagination.token:")
    other_filter = R.ListRunnersRequest(
        pagination=pagination_pb2.PaginationRequest(token=token),
        filter=R.ListRunnersRequest.Filter(providers=[GCP]),
    )
    assert api.fails("list_runners", other_filter, Code.INVALID_ARGUMENT).startswith(
        "pagination.token:"
    )
    api.fails(
        "list_runner_policies",
        R.ListRunnerPoliciesRequest(
            runner_id=rid, pagination=pagination_pb2.PaginationRequest(token=token)
        ),
        Code.INVALID_ARGUMENT,
    )
    _, other_user = create_user(api.directory, name="other", org_admin=True)
    api.fails(
        "list_runners",
        R.ListRunnersRequest(pagination=pagination_pb2.PaginationRequest(token=token)),
        Code.INVALID_ARGUMENT,
        other_user,
    )


def test_page_size_and_filter_validation(api):
    for _ in range(3):
        _runner(api)
    assert len(api("list_runners", R.ListRunnersRequest()).runners) == 3
    assert (
        len(
            api(
                "list_runners",
                R.ListRunnersRequest(pagination=pagination_pb2.PaginationRequest(page_size=100)),
            ).runners
        )
        == 3
    )
    for size in (-1, 101, 1000):  # 0-100, as in the real API (over 100 used to be capped)
        message = api.fails(
            "list_runners",
            R.ListRunnersRequest(pagination=pagination_pb2.PaginationRequest(page_size=size)),
            Code.INVALID_ARGUMENT,
        )
        assert message.startswith("pagination.page_size:")
    bad_creator = R.ListRunnersRequest(filter=R.ListRunnersRequest.Filter(creator_ids=["x"]))
    assert api.fails("list_runners", bad_creator, Code.INVALID_ARGUMENT).startswith(
        "filter.creator_ids[0]:"
    )
    too_many = R.ListRunnersRequest(
        filter=R.ListRunnersRequest.Filter(creator_ids=[str(uuid.uuid4()) for _ in range(26)])
    )
    assert api.fails("list_runners", too_many, Code.INVALID_ARGUMENT).startswith(
        "filter.creator_ids:"
    )
    many = R.ListRunnersRequest(
        filter=R.ListRunnersRequest.Filter(creator_ids=[str(uuid.uuid4()) for _ in range(25)])
    )
    assert not api("list_runners", many).runners
    bad_kind = R.ListRunnersRequest(
        filter=R.ListRunnersRequest.Filter(kinds=[rc_pb2.RUNNER_KIND_UNSPECIFIED])
    )
    assert api.fails("list_runners", bad_kind, Code.INVALID_ARGUMENT).startswith("filter.kinds:")


def test_default_page_size_is_25_and_max_100(inproc):
    api = inproc
    for i in range(105):
        _runner(api, name=f"runner{i}")
    assert len(api("list_runners", R.ListRunnersRequest()).runners) == 25
    page = api(
        "list_runners",
        R.ListRunnersRequest(pagination=pagination_pb2.PaginationRequest(page_size=100)),
    )
    assert len(page.runners) == 100
    assert page.pagination.next_token
