"""The schema carries every buf.validate rule of the real API (tests/data/gitpod_v1_validate.tsv).

Each rule sits on its field with today's names; rules of ours beyond the table are exactly
``OURS`` (documented in docs/server.md). The ``disabled`` message of the real schema has every
field IGNORE_ALWAYS (today's protovalidate has no message-level switch). Each rule is also
checked at its bounds with protovalidate on the message itself, which covers the rules on
response messages (the server's answers are checked in tests/server/test_request_rules.py).
"""

from __future__ import annotations

import pytest

from runnerkit.request_rules import RuleViolations, check, field_path
from runnerkit_proto.buf.validate import validate_pb2
from tests.schema.descriptors import messages
from tests.support.rule_cases import (
    DISABLED,
    FIELD_ROWS,
    IGNORE_ALWAYS,
    ROWS,
    Row,
    boundary_cases,
    build,
    message_desc,
    schema_rules,
    table_rules,
)

# Rules of ours beyond the real API's, as (message, field) -> FieldRules text. Documented in
# docs/server.md ("Request rules"); the real API leaves these open.
OURS: dict[tuple[str, str], str] = {
    # Updates take no more scopes than CreateHostAuthenticationToken does (real: unbounded).
    ("gitpod.v1.UpdateHostAuthenticationTokenRequest", "scopes"): "repeated { max_items: 101 }",
    # What the real schema's `disabled` stands for, today: nothing in the request is checked.
    ("gitpod.v1.ValidateRunnerConfigurationRequest", "runner_id"): "ignore: IGNORE_ALWAYS",
    ("gitpod.v1.ValidateRunnerConfigurationRequest", "environment_class"): "ignore: IGNORE_ALWAYS",
    ("gitpod.v1.ValidateRunnerConfigurationRequest", "scm_integration"): "ignore: IGNORE_ALWAYS",
}


def _expected(owner: str, name: str) -> validate_pb2.FieldRules:
    """The table's rules of a field in the form our schema declares them, plus ours.

    Two forms differ from the table, because buf lint (its PROTOVALIDATE rule) rejects them
    and they mean nothing more: ``ignore: IGNORE_IF_ZERO_VALUE`` on a message field (which
    tracks presence, so it is the default) is left out; the fields of the ``disabled``
    message carry only ``ignore: IGNORE_ALWAYS`` (their other rules would never apply).
    """
    from google.protobuf import text_format  # noqa: PLC0415

    rules = validate_pb2.FieldRules()
    for row in FIELD_ROWS:
        if (row.owner, row.name) == (owner, name) and owner not in DISABLED:
            rules.MergeFrom(table_rules(row))
    field = message_desc(owner).fields_by_name[name]
    if field.message_type is not None and rules.ignore == validate_pb2.IGNORE_IF_ZERO_VALUE:
        rules.ClearField("ignore")
    if (owner, name) in OURS:
        rules.MergeFrom(text_format.Parse(OURS[(owner, name)], validate_pb2.FieldRules()))
    return rules


def test_table_has_the_80_rules_of_the_issue() -> None:
    assert len(ROWS) == 80
    assert {"gitpod.v1.ValidateRunnerConfigurationRequest"} == DISABLED


@pytest.mark.parametrize("row", FIELD_ROWS, ids=lambda r: r.id)
def test_schema_carries_the_rule(row: Row) -> None:
    field = message_desc(row.owner).fields_by_name[row.name]
    assert schema_rules(field) == _expected(row.owner, row.name)
    if row.owner in DISABLED:
        assert schema_rules(field).ignore == IGNORE_ALWAYS


def test_no_rules_beyond_the_table_and_ours() -> None:
    declared = {
        (desc.full_name, field.name)
        for desc in messages()
        for field in desc.fields
        if schema_rules(field).ByteSize()
    }
    subject = ("gitpod.v1.CreateHostAuthenticationTokenRequest", "subject")  # the default
    assert declared == ({(r.owner, r.name) for r in FIELD_ROWS} - {subject}) | set(OURS)
    for owner, name in OURS:
        field = message_desc(owner).fields_by_name[name]
        assert schema_rules(field) == _expected(owner, name)


def test_no_message_rules() -> None:
    for desc in messages():
        assert not desc.GetOptions().HasExtension(validate_pb2.message), desc.full_name


def _cases() -> list[tuple[Row, str, object, bool]]:
    out = []
    for row in FIELD_ROWS:
        field = message_desc(row.owner).fields_by_name[row.name]
        for case in boundary_cases(field, table_rules(row)):
            out.append((row, case.label, case.value, case.ok))
    return out


@pytest.mark.parametrize(
    ("row", "label", "value", "ok"), _cases(), ids=lambda v: v.id if isinstance(v, Row) else None
)
def test_rule_at_its_bounds(row: Row, label: str, value: object, ok: bool) -> None:
    message = build(message_desc(row.owner), (), row.name, value)
    if ok or row.owner in DISABLED:
        check(message)
        return
    with pytest.raises(RuleViolations) as info:
        check(message)
    paths = {field_path(v.field) for v in info.value.violations.violations}
    assert any(p == row.name or p.startswith(row.name + "[") for p in paths), (label, paths)
    assert info.value.message.startswith(row.name)
