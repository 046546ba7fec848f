"""The compiled schema matches the real API's wire table (tests/data/gitpod_v1_wire.tsv) fact by fact.

The table is a copy of the wire facts of the real gitpod.v1 API: files and their imports,
messages, fields (number, type, label, oneof, deprecation, declaration order), enums and
values, reserved ranges, and the methods of both services with their idempotency level.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from tests.schema.descriptors import file_protos, messages

TABLE = Path(__file__).resolve().parent.parent / "data" / "gitpod_v1_wire.tsv"

FDP = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    FDP.TYPE_STRING: "string",
    FDP.TYPE_BOOL: "bool",
    FDP.TYPE_INT32: "int32",
    FDP.TYPE_UINT32: "uint32",
    FDP.TYPE_INT64: "int64",
    FDP.TYPE_UINT64: "uint64",
    FDP.TYPE_BYTES: "bytes",
    FDP.TYPE_DOUBLE: "double",
    FDP.TYPE_FLOAT: "float",
}

# Imports of the real files that our schema leaves out, with the reason. Everything else
# the table lists must be imported, and nothing more.
OMITTED_IMPORTS = {
    # OpenAPI annotations only feed the real API's docs generator.
    "gnostic/openapi/v3/annotations.proto",
}
# agent.proto carries only PullRequest (see the issue): the imports its other messages need
# in the real file would be unused here, which protoc reports (its buf.validate rules are on
# those other messages, so buf/validate/validate.proto too).
OMITTED_FOR_FILE = {
    "gitpod/v1/agent.proto": {
        "buf/validate/validate.proto",
        "gitpod/v1/environment_automation.proto",
        "gitpod/v1/identity.proto",
        "gitpod/v1/pagination.proto",
        "google/protobuf/duration.proto",
        "google/protobuf/timestamp.proto",
    },
    # gateway.proto carries only Gateway, which uses no pagination.
    "gitpod/v1/gateway.proto": {"gitpod/v1/pagination.proto"},
}


def _table() -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = defaultdict(list)
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            kind, *rest = line.split("\t")
            rows[kind].append(rest)
    return rows


TABLE_ROWS = _table()


def _our_fields() -> dict[str, list[list[str]]]:
    """Field facts of every message, in declaration order, in the table's vocabulary."""
    out: dict[str, list[list[str]]] = {}
    for desc in messages():
        proto = descriptor_pb2.DescriptorProto()
        desc.CopyToProto(proto)
        rows = []
        for f in proto.field:
            if f.type in {FDP.TYPE_MESSAGE, FDP.TYPE_ENUM}:
                type_name = f.type_name.lstrip(".")
            else:
                type_name = _SCALARS[f.type]
            if f.label == FDP.LABEL_REPEATED:
                label = "repeated"
            elif f.proto3_optional:
                label = "optional"
            else:
                label = "singular"
            real_oneof = f.HasField("oneof_index") and not f.proto3_optional
            oneof = proto.oneof_decl[f.oneof_index].name if real_oneof else "-"
            deprecated = "deprecated" if f.options.deprecated else "-"
            rows.append([f.name, str(f.number), type_name, label, oneof, deprecated])
        out[desc.full_name] = rows
    return out


def _enums() -> dict[str, tuple[str, descriptor_pb2.EnumDescriptorProto]]:
    """Every enum (top-level and nested) by full name, with its file."""
    out = {}

    def walk(prefix: str, file: str, msg: descriptor_pb2.DescriptorProto) -> None:
        for enum in msg.enum_type:
            out[f"{prefix}.{msg.name}.{enum.name}"] = (file, enum)
        for nested in msg.nested_type:
            walk(f"{prefix}.{msg.name}", file, nested)

    for name, fdp in file_protos().items():
        for enum in fdp.enum_type:
            out[f"{fdp.package}.{enum.name}"] = (name, enum)
        for msg in fdp.message_type:
            walk(fdp.package, name, msg)
    return out


def test_files_are_the_table_files_in_package_gitpod_v1() -> None:
    expected = {row[0] for row in TABLE_ROWS["file"]}
    assert set(file_protos()) == expected
    for fdp in file_protos().values():
        assert fdp.package == "gitpod.v1"
        assert fdp.syntax == "proto3"


@pytest.mark.parametrize("row", TABLE_ROWS["file"], ids=lambda r: r[0])
def test_file_imports(row: list[str]) -> None:
    name, imports = row[0], set(row[1].split(","))
    ours = set(file_protos()[name].dependency)
    omitted = (OMITTED_IMPORTS & imports) | OMITTED_FOR_FILE.get(name, set())
    assert ours == imports - omitted, (
        "imports differ from the real file beyond the listed omissions"
    )
    assert omitted <= imports, "an omission is listed that the real file does not import"


def test_messages_and_their_files() -> None:
    expected = {row[0]: row[1] for row in TABLE_ROWS["message"]}
    ours = {desc.full_name: desc.file.name for desc in messages()}
    assert ours == expected


def test_fields_match_in_every_fact_and_in_declaration_order() -> None:
    expected: dict[str, list[list[str]]] = defaultdict(list)
    for row in TABLE_ROWS["field"]:
        expected[row[0]].append(row[1:])
    ours = {name: rows for name, rows in _our_fields().items() if rows}
    assert set(ours) == set(expected)
    mismatches = {name: (ours[name], rows) for name, rows in expected.items() if ours[name] != rows}
    assert not mismatches


def test_json_names_are_default_lower_camel_case() -> None:
    for desc in messages():
        for field in desc.fields:
            camel = re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), field.name)
            assert field.json_name == camel, field.full_name


def test_enums_values_and_reserved_ranges() -> None:
    enums = _enums()
    assert {name: file for name, (file, _) in enums.items()} == {
        row[0]: row[1] for row in TABLE_ROWS["enum"]
    }
    expected_values: dict[str, list[list[str]]] = defaultdict(list)
    for row in TABLE_ROWS["value"]:
        expected_values[row[0]].append(row[1:])
    expected_reserved: dict[str, list[list[str]]] = defaultdict(list)
    for row in TABLE_ROWS["reserved"]:
        expected_reserved[row[0]].append(row[1:])
    for name, (_, enum) in enums.items():
        values = [
            [v.name, str(v.number), "deprecated" if v.options.deprecated else "-"]
            for v in enum.value
        ]
        assert values == expected_values[name], name
        # EnumReservedRange.end is inclusive, as in the table.
        reserved = [[str(r.start), str(r.end)] for r in enum.reserved_range]
        assert reserved == expected_reserved.get(name, []), name


def test_no_reserved_ranges_on_messages() -> None:
    owners = {row[0] for row in TABLE_ROWS["reserved"]}
    for desc in messages():
        proto = descriptor_pb2.DescriptorProto()
        desc.CopyToProto(proto)
        assert (len(proto.reserved_range) > 0) == (desc.full_name in owners), desc.full_name


def test_services_and_methods_in_order_with_idempotency() -> None:
    expected: dict[str, list[list[str]]] = defaultdict(list)
    for row in TABLE_ROWS["method"]:
        expected[row[0]].append(row[1:])
    ours: dict[str, list[list[str]]] = {}
    for fdp in file_protos().values():
        for service in fdp.service:
            ours[f"{fdp.package}.{service.name}"] = [
                [
                    m.name,
                    m.input_type.lstrip("."),
                    m.output_type.lstrip("."),
                    descriptor_pb2.MethodOptions.IdempotencyLevel.Name(m.options.idempotency_level)
                    if m.options.idempotency_level
                    else "-",
                ]
                for m in service.method
            ]
    assert ours == expected
    assert sum(len(v) for v in ours.values()) == 32


def test_service_files() -> None:
    services = {
        f"{fdp.package}.{s.name}": name for name, fdp in file_protos().items() for s in fdp.service
    }
    assert services == {
        "gitpod.v1.RunnerService": "gitpod/v1/runner.proto",
        "gitpod.v1.RunnerConfigurationService": "gitpod/v1/runner_configuration.proto",
    }
