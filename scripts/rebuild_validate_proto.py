"""Rebuild ``proto/buf/validate/validate.proto`` from the descriptor inside ``protovalidate``.

``buf/validate/validate.proto`` (protovalidate's rule schema, Apache-2.0, Buf Technologies)
ships in no package installed here, and the Buf Schema Registry is not reachable. The
``protovalidate`` wheel carries it compiled: its ``protovalidate._gen`` module embeds the
serialized ``FileDescriptorProto``. This script renders that descriptor back to ``.proto``
source (comments are not in a descriptor, so they are lost), formats it with ``buf format``
and writes it. Compiling the result gives the original descriptor again; ``--check`` proves
it (``buf build``, then a field-by-field comparison) and fails on any difference.

Usage::

    python scripts/rebuild_validate_proto.py            # write proto/buf/validate/validate.proto
    python scripts/rebuild_validate_proto.py --check    # also compile it and compare

Only the features the file uses are rendered; anything else fails loudly, so a future
protovalidate that uses more is noticed rather than rebuilt wrong.
"""

from __future__ import annotations

import argparse
import inspect
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    field_mask_pb2,
    message_factory,
    text_format,
    timestamp_pb2,
    unknown_fields,
)
from google.protobuf.message import Message

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "proto" / "buf" / "validate" / "validate.proto"
FILE_NAME = "buf/validate/validate.proto"

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALAR_NAMES = {
    _FDP.TYPE_DOUBLE: "double",
    _FDP.TYPE_FLOAT: "float",
    _FDP.TYPE_INT64: "int64",
    _FDP.TYPE_UINT64: "uint64",
    _FDP.TYPE_INT32: "int32",
    _FDP.TYPE_FIXED64: "fixed64",
    _FDP.TYPE_FIXED32: "fixed32",
    _FDP.TYPE_BOOL: "bool",
    _FDP.TYPE_STRING: "string",
    _FDP.TYPE_BYTES: "bytes",
    _FDP.TYPE_UINT32: "uint32",
    _FDP.TYPE_SFIXED32: "sfixed32",
    _FDP.TYPE_SFIXED64: "sfixed64",
    _FDP.TYPE_SINT32: "sint32",
    _FDP.TYPE_SINT64: "sint64",
}
_LABELS = {_FDP.LABEL_OPTIONAL: "optional", _FDP.LABEL_REPEATED: "repeated"}
_MAX_FIELD_NUMBER = 536870911  # extension ranges end (exclusive) one past it: `to max`
# The pinned buf of the virtualenv (first on PATH under make), else the one beside this Python.
BUF = shutil.which("buf") or str(Path(sys.executable).parent / "buf")


def source() -> tuple[bytes, str, str]:
    """The serialized descriptor, the licence notice and the version of the installed package."""
    from importlib.metadata import version  # noqa: PLC0415  (script-only)

    from protovalidate._gen.buf.validate import validate_pb  # noqa: PLC0415

    module_source = inspect.getsource(validate_pb)
    notice = []
    for line in module_source.splitlines():
        if not line.startswith("#"):
            break
        notice.append(line)
    # The licence notice is the leading comment block up to the first blank comment run.
    text = "\n".join(notice)
    licence = text.split("\n\n")[0]
    licence_lines = [ln for ln in licence.splitlines() if "Generated" not in ln]
    while licence_lines and licence_lines[-1].strip() == "#":
        licence_lines.pop()
    if not any("Apache License" in ln for ln in licence_lines):
        raise SystemExit("no Apache-2.0 notice found in protovalidate's generated module")
    return validate_pb.desc().proto.to_binary(), "\n".join(licence_lines), version("protovalidate")


def pool_with(serialized: bytes) -> descriptor_pool.DescriptorPool:
    """A fresh pool holding the file and its imports, so its option extensions parse."""
    pool = descriptor_pool.DescriptorPool()
    for module in (descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2):
        pool.AddSerializedFile(module.DESCRIPTOR.serialized_pb)
    pool.AddSerializedFile(serialized)
    return pool


def parse_file(serialized: bytes, pool: descriptor_pool.DescriptorPool) -> Message:
    """``serialized`` as a FileDescriptorProto whose options' extensions are resolved."""
    cls = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("google.protobuf.FileDescriptorProto")
    )
    return cls.FromString(serialized)


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _option_value(value: object) -> str:
    if isinstance(value, Message):
        body = text_format.MessageToString(value, as_utf8=True, indent=2)
        return "{\n" + body + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, int):
        return str(value)
    raise SystemExit(f"unsupported option value {value!r}")


def _options(options: Message) -> list[str]:
    """``name = value`` for every option set, custom ones as ``(full.name)``."""
    out: list[str] = []
    for fd, value in options.ListFields():
        name = f"({fd.full_name})" if fd.is_extension else fd.name
        if fd.is_repeated:
            out.extend(f"{name} = {_option_value(v)}" for v in value)
        else:
            out.append(f"{name} = {_option_value(value)}")
    if len(unknown_fields.UnknownFieldSet(options)):
        raise SystemExit(f"unresolved options in {options}")
    return out


def _type_name(field: Message, package: str) -> str:
    if field.type in _SCALAR_NAMES:  # type: ignore[attr-defined]
        return _SCALAR_NAMES[field.type]  # type: ignore[attr-defined]
    name: str = field.type_name.lstrip(".")  # type: ignore[attr-defined]
    return name.removeprefix(package + ".")


def _field(field: Message, package: str, in_oneof: bool) -> str:
    f = field
    if f.HasField("default_value") or f.proto3_optional:  # type: ignore[attr-defined]
        raise SystemExit(f"unsupported field feature in {f}")
    if f.type in {_FDP.TYPE_GROUP}:  # type: ignore[attr-defined]
        raise SystemExit("groups are not supported")
    label = "" if in_oneof else _LABELS[f.label] + " "  # type: ignore[attr-defined]
    text = f"{label}{_type_name(f, package)} {f.name} = {f.number}"  # type: ignore[attr-defined]
    options = _options(f.options)  # type: ignore[attr-defined]
    if options:
        text += " [" + ", ".join(options) + "]"
    return text + ";"


def _ranges(ranges: list[Message], end_offset: int) -> str:
    parts = []
    for r in ranges:
        end = r.end - end_offset  # type: ignore[attr-defined]
        start = r.start  # type: ignore[attr-defined]
        if end == _MAX_FIELD_NUMBER:
            parts.append(f"{start} to max")
        elif end == start:
            parts.append(str(start))
        else:
            parts.append(f"{start} to {end}")
    return ", ".join(parts)


def _enum(enum: Message) -> list[str]:
    e = enum
    lines = [f"enum {e.name} {{"]  # type: ignore[attr-defined]
    lines += [f"option {o};" for o in _options(e.options)]  # type: ignore[attr-defined]
    for v in e.value:  # type: ignore[attr-defined]
        opts = _options(v.options)
        suffix = " [" + ", ".join(opts) + "]" if opts else ""
        lines.append(f"{v.name} = {v.number}{suffix};")
    if e.reserved_range:  # type: ignore[attr-defined]
        lines.append(f"reserved {_ranges(list(e.reserved_range), 0)};")  # type: ignore[attr-defined]
    if e.reserved_name:  # type: ignore[attr-defined]
        lines.append("reserved " + ", ".join(map(_quote, e.reserved_name)) + ";")  # type: ignore[attr-defined]
    return [*lines, "}"]


def _message(message: Message, package: str) -> list[str]:
    m = message
    lines = [f"message {m.name} {{"]  # type: ignore[attr-defined]
    lines += [f"option {o};" for o in _options(m.options)]  # type: ignore[attr-defined]
    open_oneof: int | None = None
    for f in m.field:  # type: ignore[attr-defined]
        oneof = f.oneof_index if f.HasField("oneof_index") else None
        if oneof != open_oneof:
            if open_oneof is not None:
                lines.append("}")
            if oneof is not None:
                decl = m.oneof_decl[oneof]  # type: ignore[attr-defined]
                lines.append(f"oneof {decl.name} {{")
                lines += [f"option {o};" for o in _options(decl.options)]
            open_oneof = oneof
        lines.append(_field(f, package, oneof is not None))
    if open_oneof is not None:
        lines.append("}")
    for nested in m.nested_type:  # type: ignore[attr-defined]
        if nested.options.map_entry:
            raise SystemExit("map fields are not supported")
        lines += _message(nested, package)
    for enum in m.enum_type:  # type: ignore[attr-defined]
        lines += _enum(enum)
    return [*lines, *_ranges_of(m), "}"]


def _ranges_of(m: Message) -> list[str]:
    """A message's ``extensions`` and ``reserved`` lines."""
    lines = []
    if m.extension:  # type: ignore[attr-defined]
        raise SystemExit("nested extensions are not supported")
    if m.extension_range:  # type: ignore[attr-defined]
        if any(r.options.ByteSize() for r in m.extension_range):  # type: ignore[attr-defined]
            raise SystemExit("extension range options are not supported")
        lines.append(f"extensions {_ranges(list(m.extension_range), 1)};")  # type: ignore[attr-defined]
    if m.reserved_range:  # type: ignore[attr-defined]
        lines.append(f"reserved {_ranges(list(m.reserved_range), 1)};")  # type: ignore[attr-defined]
    if m.reserved_name:  # type: ignore[attr-defined]
        lines.append("reserved " + ", ".join(map(_quote, m.reserved_name)) + ";")  # type: ignore[attr-defined]
    return lines


def render(serialized: bytes, licence: str, version: str) -> str:
    """The ``.proto`` source of ``serialized`` (unformatted: ``buf format`` lays it out)."""
    f = parse_file(serialized, pool_with(serialized))
    if f.name != FILE_NAME or f.syntax not in {"", "proto2"} or f.service:  # type: ignore[attr-defined]
        raise SystemExit(f"unexpected file {f.name} ({f.syntax})")  # type: ignore[attr-defined]
    package: str = f.package  # type: ignore[attr-defined]
    lines = [
        licence.replace("#", "//"),
        "",
        f"// Rebuilt by scripts/rebuild_validate_proto.py from the descriptor in protovalidate {version}",
        "// (protovalidate._gen). Comments are not part of a descriptor and are lost. DO NOT EDIT.",
        "",
        'syntax = "proto2";',
        f"package {package};",
    ]
    lines += [f"import {_quote(d)};" for d in f.dependency]  # type: ignore[attr-defined]
    lines += [f"option {o};" for o in _options(f.options)]  # type: ignore[attr-defined]
    for m in f.message_type:  # type: ignore[attr-defined]
        lines += _message(m, package)
    for e in f.enum_type:  # type: ignore[attr-defined]
        lines += _enum(e)
    extendee: str | None = None
    for x in f.extension:  # type: ignore[attr-defined]
        if x.extendee != extendee:
            if extendee is not None:
                lines.append("}")
            extendee = x.extendee
            lines.append(f"extend {x.extendee.lstrip('.')} {{")
        lines.append(_field(x, package, in_oneof=False))
    if extendee is not None:
        lines.append("}")
    return "\n".join(lines) + "\n"


def buf_format(text: str) -> str:
    """``text`` as ``buf format`` lays it out."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "validate.proto"
        path.write_text(text, encoding="utf-8")
        result = subprocess.run(  # noqa: S603
            [BUF, "format", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
    return result.stdout


def compiled(proto_root: Path) -> bytes:
    """The descriptor ``buf build`` compiles from ``proto_root``'s validate.proto."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "image.binpb"
        subprocess.run(  # noqa: S603
            [
                BUF,
                "build",
                str(proto_root),
                "--path",
                str(proto_root / FILE_NAME),
                "--as-file-descriptor-set",
                "--exclude-source-info",
                "--exclude-imports",
                "-o",
                str(out),
            ],
            check=True,
        )
        fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    (built,) = (f for f in fds.file if f.name == FILE_NAME)
    return built.SerializeToString()


def differences(original: bytes, rebuilt: bytes) -> list[str]:
    """Where the rebuilt descriptor differs from the original (empty when identical)."""
    pool = pool_with(original)
    a = text_format.MessageToString(parse_file(original, pool)).splitlines()
    b = text_format.MessageToString(parse_file(rebuilt, pool)).splitlines()
    import difflib  # noqa: PLC0415

    return list(difflib.unified_diff(a, b, "protovalidate", "rebuilt", lineterm="", n=2))


def main(argv: list[str]) -> int:
    """Write the rebuilt file; with ``--check``, also prove it compiles to the original."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compile it and compare")
    parser.add_argument("--output", type=Path, default=TARGET, help="where to write")
    args = parser.parse_args(argv)
    serialized, licence, version = source()
    text = buf_format(render(serialized, licence, version))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    if args.check:
        diff = differences(serialized, compiled(ROOT / "proto"))
        if diff:
            print("\n".join(diff), file=sys.stderr)
            return 1
        print(f"{FILE_NAME}: compiles to protovalidate {version}'s descriptor")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
