"""Every request is checked against the schema's ``buf.validate`` rules before its handler.

:func:`check_request_rules` runs in ``pipeline.RequestPipeline`` (after authentication and
the text rules, before the handler), so it serves Connect, gRPC-Web and gRPC alike. A request
that breaks a rule gets ``invalid_argument``: the message names each field path
(``pagination.page_size: must be ...``) and the error carries a ``buf.validate.Violations``
detail listing every violation. The rules themselves live in ``proto/`` (see
``runnerkit.request_rules``); handlers and domain code only check what a schema cannot
express.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protovalidate import CompilationError, EvaluationError

from runnerkit.request_rules import RuleViolations, check
from runnerkit.server.errors import INTERNAL_MESSAGE

if TYPE_CHECKING:
    from google.protobuf.message import Message

__all__ = ["check_request_rules", "invalid_argument"]

_log = logging.getLogger("runnerkit.server")


def invalid_argument(exc: RuleViolations) -> ConnectError:
    """The ``invalid_argument`` error for broken rules, with the Violations detail."""
    return ConnectError(Code.INVALID_ARGUMENT, exc.message, details=[exc.violations])


def check_request_rules(request: Message, method_name: str) -> None:
    """Check ``request`` against its schema's rules.

    Args:
        request: The decoded request.
        method_name: The RPC's name, for the log when the rules themselves are broken.

    Raises:
        ConnectError: ``invalid_argument`` (:func:`invalid_argument`) when the request breaks
            rules; ``internal`` (logged) when the rules cannot be evaluated — a schema bug,
            not the caller's.
    """
    try:
        check(request)
    except RuleViolations as exc:
        raise invalid_argument(exc) from None
    except (CompilationError, EvaluationError) as exc:
        _log.exception("the rules of %s cannot be evaluated", method_name)
        raise ConnectError(Code.INTERNAL, INTERNAL_MESSAGE) from exc
