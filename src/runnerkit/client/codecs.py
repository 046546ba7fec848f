"""The client's Connect codecs for google protobuf messages: binary and compact JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.protobuf.message import Message


class BinaryCodec:
    """Connect binary codec for google protobuf messages (``application/proto``)."""

    def name(self) -> str:
        """The Connect codec name.

        Returns:
            ``"proto"``.
        """
        return "proto"

    def encode(self, message: Message) -> bytes:
        """Serialise ``message``.

        Args:
            message: Any google protobuf message.

        Returns:
            The wire bytes.
        """
        return message.SerializeToString()

    def decode(self, data: bytes | bytearray, message_class: type[Any]) -> Any:  # noqa: ANN401
        """Parse the wire bytes.

        Args:
            data: The body.
            message_class: The generated message class.

        Returns:
            The parsed message.
        """
        return message_class.FromString(data)


class CompactJSONCodec:
    """Connect JSON codec for google protobuf messages, without pretty-printing."""

    def name(self) -> str:
        """The Connect codec name.

        Returns:
            ``"json"``.
        """
        return "json"

    def encode(self, message: Message) -> bytes:
        """Serialise ``message`` as compact protobuf JSON.

        Args:
            message: Any google protobuf message.

        Returns:
            UTF-8 JSON bytes (lowerCamelCase names, enums by name).
        """
        from google.protobuf import json_format  # noqa: PLC0415 - only JSON clients need it

        value = json_format.MessageToDict(message)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    def decode(self, data: bytes | bytearray, message_class: type[Any]) -> Any:  # noqa: ANN401
        """Parse protobuf JSON, ignoring unknown fields (forward compatibility).

        Args:
            data: The JSON body.
            message_class: The generated message class.

        Returns:
            The parsed message.
        """
        from google.protobuf import json_format  # noqa: PLC0415 - only JSON clients need it

        message = message_class()
        json_format.Parse(bytes(data), message, ignore_unknown_fields=True)
        return message


__all__ = ["BinaryCodec", "CompactJSONCodec"]
