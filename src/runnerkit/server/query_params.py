"""Strict parsing of the list RPCs' query-string pagination (``?pageSize=…&token=…``).

The reference's SDK sends ``pageSize`` and ``token`` in the URL query string of JSON list calls,
and they override the body's ``pagination`` (DESIGN.md). Values come straight from the URL, so
they are parsed here strictly, before anything else sees them:

- ``pageSize``: optional ``-``, then 1 to 10 ASCII digits, within the range of ``int32`` (the
  field's type). Anything else — ``²`` and other Unicode digits, ``--1``, ``+1``, spaces, a
  5,000-digit number — is ``invalid_argument`` naming ``pagination.page_size``. A negative
  value is the list RPC's own business (it says ``must not be negative``).
- ``token``: passed on as it is; the page-token check (``pagination.py``) judges it.
"""

from __future__ import annotations

import re

from runnerkit.server.domain.errors import InvalidArgumentError

__all__ = ["PAGE_SIZE_FIELD", "parse_page_size"]

PAGE_SIZE_FIELD = "pagination.page_size"
_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
_DECIMAL = re.compile(r"-?[0-9]{1,10}")


def parse_page_size(text: str) -> int:
    """The ``pageSize`` query parameter as an ``int32``.

    Args:
        text: The parameter's value, already percent-decoded.

    Returns:
        The value.

    Raises:
        InvalidArgumentError: ``text`` is not a plain decimal integer within ``int32``.
    """
    if not _DECIMAL.fullmatch(text):
        raise InvalidArgumentError(PAGE_SIZE_FIELD, "must be an integer")
    value = int(text)
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise InvalidArgumentError(PAGE_SIZE_FIELD, "must be a 32-bit integer")
    return value
