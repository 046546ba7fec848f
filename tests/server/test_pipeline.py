"""``RequestPipeline`` and its stages, called directly (no HTTP): each stage's error, in order,
pass-through, and unexpected exceptions as ``internal`` without internal text, logged."""

from __future__ import annotations

import asyncio
import logging
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from google.protobuf import json_format
from protovalidate import CompilationError

from runnerkit.server import request_validation
from runnerkit.server.domain.errors import DomainError, NotFoundError, PermissionDeniedError
from runnerkit.server.input_checks import check_request_text
from runnerkit.server.pipeline import RequestPipeline
from runnerkit.server.request_validation import check_request_rules
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_pb2

RUNNER_ID = str(uuid.uuid4())


def _parsed(cls: Any, fields: dict[str, Any]) -> Any:
    return json_format.ParseDict(fields, cls())


CTX: Any = SimpleNamespace(method=SimpleNamespace(name="GetRunner"))


def _run(request: object, handler: Any) -> object:
    calls: list[object] = []

    async def call_next(req: object, ctx: object) -> object:
        calls.append(req)
        return await handler(req)

    result = asyncio.run(RequestPipeline().intercept_unary(call_next, request, CTX))
    assert calls == [request]
    return result


def _refused(request: object, handler: Any = None) -> ConnectError:
    async def never(_req: object) -> object:
        raise AssertionError("the handler must not run")

    with pytest.raises(ConnectError) as info:
        _run(request, handler or never)
    return info.value


async def _ok(_req: object) -> runner_pb2.GetRunnerResponse:
    return runner_pb2.GetRunnerResponse(runner=runner_pb2.Runner(runner_id=RUNNER_ID))


def test_a_good_request_reaches_the_handler_and_its_answer_comes_back():
    answer = _run(runner_pb2.GetRunnerRequest(runner_id=RUNNER_ID), _ok)
    assert answer == runner_pb2.GetRunnerResponse(runner=runner_pb2.Runner(runner_id=RUNNER_ID))


def test_nul_is_refused_first_naming_the_field():
    # breaks the UUID rule too: the text rule answers first
    error = _refused(runner_pb2.GetRunnerRequest(runner_id="a\x00b"))
    assert error.code == Code.INVALID_ARGUMENT
    assert error.message == "runner_id: must not contain NUL characters"
    assert not error.details


def test_a_broken_schema_rule_is_invalid_argument_with_violations():
    error = _refused(runner_pb2.GetRunnerRequest(runner_id="nope"))
    assert error.code == Code.INVALID_ARGUMENT
    assert error.message == "runner_id: must be a valid UUID"
    assert len(error.details) == 1


def test_rules_that_cannot_be_evaluated_are_internal_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def broken(_message: object) -> None:
        raise CompilationError("secret schema text")

    monkeypatch.setattr(request_validation, "check", broken)
    with caplog.at_level(logging.ERROR, logger="runnerkit.server"):
        error = _refused(runner_pb2.GetRunnerRequest(runner_id=RUNNER_ID))
    assert (error.code, error.message) == (Code.INTERNAL, "internal error")
    assert [r.getMessage() for r in caplog.records] == [
        "the rules of GetRunner cannot be evaluated"
    ]


def test_connect_errors_of_the_handler_pass_unchanged():
    raised = ConnectError(Code.FAILED_PRECONDITION, "runner is busy")

    async def handler(_req: object) -> object:
        raise raised

    assert _refused(runner_pb2.GetRunnerRequest(runner_id=RUNNER_ID), handler) is raised


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (NotFoundError("runner r not found"), Code.NOT_FOUND),
        (PermissionDeniedError("runner r not found"), Code.PERMISSION_DENIED),
        (DomainError("runner r not found"), Code.INTERNAL),
    ],
)
def test_domain_errors_get_their_code(exc: DomainError, code: Code):
    async def handler(_req: object) -> object:
        raise exc

    error = _refused(runner_pb2.GetRunnerRequest(runner_id=RUNNER_ID), handler)
    assert error.code == code
    expected = "internal error" if code == Code.INTERNAL else "runner r not found"
    assert error.message == expected
    assert error.__cause__ is exc


def test_an_unexpected_exception_is_internal_without_its_text_and_logged(
    caplog: pytest.LogCaptureFixture,
):
    async def handler(_req: object) -> object:
        raise RuntimeError("secret internal text")

    with caplog.at_level(logging.ERROR, logger="runnerkit.server"):
        error = _refused(runner_pb2.GetRunnerRequest(runner_id=RUNNER_ID), handler)
    assert (error.code, error.message, error.details) == (Code.INTERNAL, "internal error", [])
    assert "secret" not in str(error)
    [record] = caplog.records
    assert record.getMessage() == "unexpected error in GetRunner"
    assert record.exc_info is not None
    assert "secret internal text" in str(record.exc_info[1])


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (
            _parsed(runner_pb2.ListRunnersRequest, {"filter": {"creator_ids": ["a", "b\x00"]}}),
            "filter.creator_ids[1]",
        ),
        (
            _parsed(
                runner_pb2.CreateRunnerRequest, {"spec": {"configuration": {"region": "\x00"}}}
            ),
            "spec.configuration.region",
        ),
    ],
)
def test_check_request_text_names_nested_fields(request_: Any, field: str):
    with pytest.raises(ConnectError) as info:
        check_request_text(request_)
    assert info.value.message == f"{field}: must not contain NUL characters"


def test_check_request_text_passes_zero_bytes_that_are_not_nul_characters():
    # an empty sub-message and a zero enum in a list serialise with zero bytes
    request = _parsed(runner_pb2.ListRunnersRequest, {"filter": {"kinds": [0, 1]}})
    request.pagination.SetInParent()
    assert b"\x00" in request.SerializeToString()
    check_request_text(request)
    check_request_text(runner_configuration_pb2.ListEnvironmentClassesRequest())


def test_check_request_rules_without_http():
    check_request_rules(runner_pb2.GetRunnerRequest(runner_id=RUNNER_ID), "GetRunner")
    with pytest.raises(ConnectError) as info:
        check_request_rules(
            _parsed(runner_pb2.ListRunnersRequest, {"pagination": {"page_size": 1000}}), "X"
        )
    assert info.value.message == (
        "pagination.page_size: must be greater than or equal to 0 and less than or equal to 100"
    )
