"""Injected faults: errors and latency for chosen RPCs, applied before the handler runs.

A :class:`Fault` matches an RPC by name (``"GetRunner"``, or ``"*"`` for every RPC), fires with
``probability`` until it has fired ``times`` times (None: forever), waits ``delay_s`` and then
answers ``code`` (or, without a code, lets the call go on: pure latency). The interceptor sits
after authentication, so every protocol (Connect, gRPC-Web, gRPC) sees the same faults.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError

if TYPE_CHECKING:
    from collections.abc import Mapping

ANY_RPC = "*"
CODES = {code.value: code for code in Code}


def parse_code(value: str | Code | None) -> Code | None:
    """A Connect code from its name (``"unavailable"``, ``"UNAVAILABLE"``) or itself.

    Raises:
        ValueError: Not a Connect error code.
    """
    if value is None or isinstance(value, Code):
        return value
    code = CODES.get(str(value).strip().lower())
    if code is None:
        msg = f"code: expected one of {', '.join(sorted(CODES))}, got {value!r}"
        raise ValueError(msg)
    return code


@dataclass
class Fault:
    """One injected fault (see the module docstring); ``fired`` counts its uses."""

    rpc: str
    code: Code | None
    message: str
    times: int | None
    probability: float
    delay_s: float
    fired: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "rpc": self.rpc,
            "code": self.code.value if self.code else None,
            "message": self.message,
            "times": self.times,
            "probability": self.probability,
            "delay_s": self.delay_s,
            "fired": self.fired,
        }


def _rpc_name(rpc: str) -> str:
    name = rpc.strip().rsplit("/", 1)[-1]
    if not name:
        raise ValueError("rpc: expected an RPC name such as 'GetRunner', or '*'")
    return name


class Faults:
    """The faults of one server; thread-safe. Use :meth:`add` and :meth:`clear`.

    Args:
        rng: Random source for ``probability`` (seed it for repeatable runs).
    """

    def __init__(self, rng: random.Random | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._rng = rng or random.Random()  # noqa: S311 - fault dice, not cryptography

    def add(
        self,
        rpc: str = ANY_RPC,
        code: str | Code | None = "unavailable",
        message: str | None = None,
        *,
        times: int | None = 1,
        probability: float = 1.0,
        delay_s: float = 0.0,
    ) -> Fault:
        """Inject a fault.

        Args:
            rpc: The RPC's name (``"GetRunner"``; ``"gitpod.v1.RunnerService/GetRunner"`` works
                too), or ``"*"`` for every RPC.
            code: The Connect code to answer (``"unavailable"``, ``"internal"``, …); None to
                only add latency.
            message: The error message; ``"injected fault: <code>"`` by default.
            times: How many calls it affects; None for every call until cleared.
            probability: Chance (0-1) that a matching call is affected.
            delay_s: Seconds to wait before answering (or before the handler runs).

        Returns:
            The fault (its ``fired`` counter shows how often it struck).

        Raises:
            ValueError: A bad argument (the message names it).
        """
        parsed = parse_code(code)
        if times is not None and (isinstance(times, bool) or int(times) != times or times < 1):
            raise ValueError(f"times: expected a whole number >= 1 or None, got {times!r}")
        if not (0.0 <= probability <= 1.0):
            raise ValueError(f"probability: expected 0..1, got {probability!r}")
        if not math.isfinite(delay_s) or not (0.0 <= delay_s <= 60.0):
            raise ValueError(f"delay_s: expected 0..60 seconds, got {delay_s!r}")
        if parsed is None and delay_s == 0.0:
            raise ValueError("a fault needs a code, a delay_s, or both")
        fault = Fault(
            rpc=ANY_RPC if rpc.strip() == ANY_RPC else _rpc_name(rpc),
            code=parsed,
            message=message or f"injected fault: {parsed.value if parsed else 'delay'}",
            times=None if times is None else int(times),
            probability=float(probability),
            delay_s=float(delay_s),
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_from(self, spec: Mapping[str, Any]) -> Fault:
        """:meth:`add` from a JSON object (the HTTP test API).

        Raises:
            ValueError: Unknown keys or bad values.
        """
        allowed = {"rpc", "code", "message", "times", "probability", "delay_s"}
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        rpc = spec.get("rpc", ANY_RPC)
        message = spec.get("message")
        if not isinstance(rpc, str):
            raise ValueError("rpc: expected a string")  # noqa: TRY004 - a bad value, answered 400
        if message is not None and not isinstance(message, str):
            raise ValueError("message: expected a string")
        times = spec.get("times", 1)
        if times is not None and not isinstance(times, int):
            raise ValueError(f"times: expected a whole number or null, got {times!r}")
        numbers = {k: spec.get(k, d) for k, d in (("probability", 1.0), ("delay_s", 0.0))}
        for key, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key}: expected a number, got {value!r}")  # noqa: TRY004
        return self.add(
            rpc,
            spec.get("code", "unavailable"),
            message,
            times=times,
            probability=float(numbers["probability"]),
            delay_s=float(numbers["delay_s"]),
        )

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        """The active faults, oldest first."""
        with self._lock:
            return list(self._faults)

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def pick(self, rpc: str) -> Fault | None:
        """The fault that strikes this call of ``rpc`` (counted as fired), if any."""
        with self._lock:
            for fault in self._faults:
                if fault.rpc not in (ANY_RPC, rpc):
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                if fault.times is not None and fault.fired >= fault.times:
                    self._faults.remove(fault)
                return fault
        return None


def fault_error(fault: Fault) -> ConnectError | None:
    """The error a fault answers with, or None for a pure delay."""
    return None if fault.code is None else ConnectError(fault.code, fault.message)
