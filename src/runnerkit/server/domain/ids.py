"""Ids in requests: required, well-formed UUIDs (invalid_argument naming the field otherwise)."""

from __future__ import annotations

import re
import uuid

from runnerkit.server.domain.errors import InvalidArgumentError

# The canonical form (what clients nearly always send): returned as it is, without parsing.
_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch


def new_id() -> str:
    """A fresh server-made id: a random (version 4) UUID in canonical lower-case form."""
    return str(uuid.uuid4())


def parse_uuid(value: str, field: str) -> str:
    """Check a required UUID field and return it in canonical form.

    Args:
        value: The field's value as the client sent it.
        field: The field's name, for the error message.

    Returns:
        The UUID in canonical lower-case hyphenated form.

    Raises:
        InvalidArgumentError: The value is empty or not a UUID.
    """
    if _CANONICAL(value):
        return value  # what str(uuid.UUID(value)) gives, ~5x cheaper
    if not value:
        raise InvalidArgumentError(field, "required")
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise InvalidArgumentError(field, "must be a UUID") from None
    if len(value) != 36:
        raise InvalidArgumentError(field, "must be a UUID")
    return str(parsed)
