"""The schema's ``buf.validate`` rules, checked with protovalidate: one place for server and client.

``proto/`` declares the real API's rules (and a few of ours, listed in docs/server.md) as
``buf.validate`` options; protovalidate evaluates them on the generated messages. The server
checks every request before its handler (``runnerkit.server.request_validation``); the client
does the same before sending when built with ``validate=True``. Both answer with the same
``invalid_argument`` message, naming each field path, and the same ``buf.validate.Violations``
detail.

protovalidate is a dependency of the server; for the client it is optional
(``pip install 'runnerkit[validate]'``), so this module imports it only when first used.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.protobuf.message import Message
    from protovalidate import ViolationsPb

__all__ = ["VIOLATIONS_TYPE_URL", "RuleViolations", "check", "field_path", "load_validator"]

VIOLATIONS_TYPE_URL = "type.googleapis.com/buf.validate.Violations"
_SHOWN = 5  # violations spelled out in the message; the detail carries all of them


class RuleViolations(Exception):  # noqa: N818 - it carries violations, it is no failure of ours
    """A message breaks rules of the schema.

    Attributes:
        message: ``path: problem`` for the first violations, ``; ``-separated.
        violations: The ``buf.validate.Violations`` message (protobuf-py, as connectrpc
            error details must be).
    """

    def __init__(self, message: str, violations: ViolationsPb) -> None:
        super().__init__(message)
        self.message = message
        self.violations = violations


@functools.cache
def load_validator() -> Any:  # noqa: ANN401 - protovalidate.Validator; imported lazily
    """The shared protovalidate validator (it caches the compiled rules of each message).

    Raises:
        ImportError: protovalidate is not installed (``runnerkit[validate]``).
    """
    try:
        import protovalidate  # noqa: PLC0415 - optional for the client
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            "request validation needs protovalidate: pip install 'runnerkit[validate]'"
        ) from exc
    return protovalidate.Validator()


def field_path(path: Any) -> str:  # noqa: ANN401 - a buf.validate.FieldPath
    """``pagination.page_size``, ``filter.creator_ids[0]``: a FieldPath as text.

    Args:
        path: A ``buf.validate.FieldPath``, protobuf-py (protovalidate's) or google protobuf
            (``runnerkit_proto.buf.validate.validate_pb2``, e.g. decoded from an error detail).

    Returns:
        The dotted path, with ``[index]`` or ``[key]`` subscripts.
    """
    parts: list[str] = []
    for element in path.elements:
        text = element.field_name
        if hasattr(element, "WhichOneof"):  # google protobuf
            which = element.WhichOneof("subscript")
            value = getattr(element, which) if which else None
        else:  # protobuf-py: the oneof is an attribute
            value = element.subscript.value if element.subscript is not None else None
        if value is not None:
            text += f"[{value!r}]" if isinstance(value, str) else f"[{value}]"
        parts.append(text)
    return ".".join(parts)


def check(message: Message) -> None:
    """Check ``message`` against the rules its schema declares.

    Args:
        message: A generated (google protobuf) message, e.g. a request.

    Raises:
        RuleViolations: The message breaks at least one rule.
    """
    found = load_validator().collect_violations(message)
    if not found:
        return
    import protovalidate  # noqa: PLC0415 - loaded by load_validator() already

    protos = [v.proto for v in found]
    shown = [f"{field_path(p.field) or '(message)'}: {p.message}" for p in protos[:_SHOWN]]
    if len(protos) > _SHOWN:
        shown.append(f"and {len(protos) - _SHOWN} more")
    raise RuleViolations("; ".join(shown), protovalidate.ViolationsPb(violations=protos))
