"""Every service, method, message, enum, enum value, oneof and field of the schema is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parent.parent.parent
BUF = Path(sys.executable).parent / "buf"

# Path components of descriptor.proto (SourceCodeInfo.Location.path).
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MSG_FIELD, _MSG_NESTED, _MSG_ENUM, _MSG_ONEOF = 2, 3, 4, 8
_ENUM_VALUE, _SERVICE_METHOD = 2, 2


def _image() -> descriptor_pb2.FileDescriptorSet:
    out = subprocess.run(
        [str(BUF), "build", "-o", "-#format=binpb"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return descriptor_pb2.FileDescriptorSet.FromString(out)


def _elements(fdp: descriptor_pb2.FileDescriptorProto) -> list[tuple[tuple[int, ...], str]]:
    found: list[tuple[tuple[int, ...], str]] = []

    def enum(path: tuple[int, ...], e: descriptor_pb2.EnumDescriptorProto, name: str) -> None:
        found.append((path, name))
        for i, v in enumerate(e.value):
            found.append(((*path, _ENUM_VALUE, i), f"{name}.{v.name}"))

    def message(path: tuple[int, ...], m: descriptor_pb2.DescriptorProto, name: str) -> None:
        found.append((path, name))
        synthetic = {m.oneof_decl[f.oneof_index].name for f in m.field if f.proto3_optional}
        for i, f in enumerate(m.field):
            found.append(((*path, _MSG_FIELD, i), f"{name}.{f.name}"))
        for i, o in enumerate(m.oneof_decl):
            if o.name not in synthetic:
                found.append(((*path, _MSG_ONEOF, i), f"{name}.{o.name}"))
        for i, n in enumerate(m.nested_type):
            message((*path, _MSG_NESTED, i), n, f"{name}.{n.name}")
        for i, e in enumerate(m.enum_type):
            enum((*path, _MSG_ENUM, i), e, f"{name}.{e.name}")

    for i, m in enumerate(fdp.message_type):
        message((_FILE_MESSAGE, i), m, m.name)
    for i, e in enumerate(fdp.enum_type):
        enum((_FILE_ENUM, i), e, e.name)
    for i, s in enumerate(fdp.service):
        found.append(((_FILE_SERVICE, i), s.name))
        for j, method in enumerate(s.method):
            found.append(((_FILE_SERVICE, i, _SERVICE_METHOD, j), f"{s.name}.{method.name}"))
    return found


def test_every_element_has_a_leading_comment() -> None:
    undocumented = []
    files = [f for f in _image().file if f.name.startswith("gitpod/v1/")]
    assert len(files) == 6
    for fdp in files:
        comments = {
            tuple(loc.path): loc.leading_comments.strip() for loc in fdp.source_code_info.location
        }
        undocumented += [
            f"{fdp.name}: {name}" for path, name in _elements(fdp) if not comments.get(path)
        ]
    assert not undocumented


def test_no_lint_ignore_comments() -> None:
    for proto in (ROOT / "proto").rglob("*.proto"):
        assert "buf:lint:ignore" not in proto.read_text(encoding="utf-8"), proto
