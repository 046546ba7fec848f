"""The server's codecs: protobuf binary (connectrpc's) and a compact, lenient JSON codec.

JSON differs from ``connectrpc.compat.google_protobuf_json_codec`` in two ways:

- output is compact (no indentation), field names lowerCamelCase as the reference's;
  it is ``json_format.MessageToDict`` dumped, computed by ``proto_json`` (same bytes, less
  CPU); plain input is parsed by ``proto_json_decode`` (the same message as ``ParseDict``,
  which still reads everything else and words every error);
- ``google.protobuf.Timestamp`` values without an offset (``2025-01-01T00:00:00``) are read
  as UTC, as the reference's own examples send them; values with ``Z`` or ``+hh:mm`` are
  read as usual. Unknown fields are ignored (forward compatibility).

Malformed input is ``invalid_argument`` with a message that names what is wrong, holds no
internal text and can always be encoded (unpaired surrogates are refused up front, echoed
values go through ``text_rules.printable``).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, TypeVar

from connectrpc.code import Code
from connectrpc.compat import google_protobuf_binary_codec
from connectrpc.errors import ConnectError
from google.protobuf import json_format

from runnerkit.server.proto_json import message_to_dict
from runnerkit.server.proto_json_decode import fill
from runnerkit.server.text_rules import printable, surrogate_path

if TYPE_CHECKING:
    from connectrpc.codec import Codec
    from google.protobuf.descriptor import Descriptor
    from google.protobuf.message import Message

_M = TypeVar("_M")
_TIMESTAMP = "google.protobuf.Timestamp"
_HAS_OFFSET = re.compile(r"(?:[Zz]|[+-]\d{2}:\d{2})\Z")
_MAX_DEPTH = 64
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _utc_if_naive(value: object) -> object:
    if isinstance(value, str) and value and not _HAS_OFFSET.search(value):
        return value + "Z"
    return value


def _fix_value(value: object, message_type: Descriptor, depth: int) -> object:
    """Fix one JSON value of a message-typed field (a single value or a repeated list)."""
    if isinstance(value, list):
        return [_fix_value(item, message_type, depth) for item in value]
    if message_type.full_name == _TIMESTAMP:
        return _utc_if_naive(value)
    if isinstance(value, dict):
        if message_type.GetOptions().map_entry:
            value_type = message_type.fields_by_name["value"].message_type
            if value_type is not None:
                for key, item in value.items():
                    value[key] = _fix_value(item, value_type, depth + 1)
        else:
            _fix_timestamps(value, message_type, depth + 1)
    return value


def _fix_timestamps(obj: dict[str, Any], descriptor: Descriptor, depth: int = 0) -> None:
    """Append ``Z`` to offset-less Timestamp strings in a JSON object, in place."""
    if depth > _MAX_DEPTH:
        return
    for key, value in obj.items():
        field = descriptor.fields_by_camelcase_name.get(key) or descriptor.fields_by_name.get(key)
        if field is not None and field.message_type is not None:
            obj[key] = _fix_value(value, field.message_type, depth)


class JSONCodec:
    """Compact protobuf JSON with lenient Timestamp parsing (see the module docstring)."""

    def name(self) -> str:
        """The codec's name in content types: ``json``."""
        return "json"

    def encode(self, message: Message) -> bytes:
        """Serialise a message as compact JSON."""
        return _dumps(message_to_dict(message)).encode()

    def decode(self, data: bytes | bytearray, message_class: type[_M]) -> _M:
        """Parse JSON into ``message_class``; malformed input is ``invalid_argument``.

        Error messages never carry internal text and are always encodable (``text_rules``):
        a body that is not UTF-8, not JSON, nested too deeply, or holds an unpaired
        surrogate is refused before protobuf sees it.
        """
        message: Any = message_class()
        obj = _load_object(bytes(data))
        if fill(obj, message):  # plain input: the same message, for less work
            return message  # type: ignore[no-any-return]
        message = message_class()
        _fix_timestamps(obj, message.DESCRIPTOR)
        try:
            json_format.ParseDict(obj, message, ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            raise _invalid(f"invalid JSON request: {printable(str(exc))}") from None
        except Exception:  # noqa: BLE001 - whatever protobuf raises is the client's input
            raise _invalid("invalid JSON request: a value does not fit its field") from None
        return message  # type: ignore[no-any-return]


def _invalid(message: str) -> ConnectError:
    return ConnectError(Code.INVALID_ARGUMENT, message)


def _load_object(data: bytes) -> dict[str, Any]:
    """The request body as a JSON object (empty → ``{}``), checked as the class says."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff") if data else "{}"
    except UnicodeDecodeError:
        raise _invalid("request body is not valid UTF-8") from None
    try:
        obj = json.loads(text or "{}")
    except RecursionError:
        raise _invalid("request body is nested too deeply") from None
    except ValueError:
        raise _invalid("request body is not valid JSON") from None
    if not isinstance(obj, dict):
        raise _invalid("request body must be a JSON object")
    if _ESCAPED_SURROGATE.search(text):
        where = surrogate_path(obj)
        if where is not None:
            raise _invalid(f"{where}: not valid text (unpaired UTF-16 surrogate)")
    return obj


def server_codecs() -> list[Codec[Any, Any]]:
    """The codecs the server speaks: protobuf binary first, then JSON."""
    return [google_protobuf_binary_codec(), JSONCodec()]
