"""Count the fuzz test's failing requests instead of stopping at the first (for reports).

``python -m tests.server.fuzz_count [EXAMPLES] [MODE,...]`` runs the requests of
``test_fuzz.py`` (same strategies, same seed, ``EXAMPLES`` per RPC and mode, default 100)
against a fresh server, without shrinking, and prints how many requests failed and why,
grouped. Point ``PYTHONPATH`` at another ``src`` to count another version of the server.
"""

from __future__ import annotations

import collections
import logging
import re
import socket
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from runnerkit.server.scm import SCMConfig
from tests.server.fuzz_bodies import RPCS
from tests.server.fuzz_protocols import MODES, Request, check, request
from tests.server.test_fuzz import SEED
from tests.support.server import running_server

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.server.fuzz_protocols import Answer

_NOISE = re.compile(r"0x[0-9a-f]{2}|position [\d-]+|\d{2}:\d{2}:\d{2}|port \d+")


class _Faults(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            exc = record.exc_info[1] if record.exc_info else None
            self.found.append(f"log: {record.getMessage()[:60]} {type(exc).__name__}: {exc}")


def _run(
    examples: int,
    requests: st.SearchStrategy[Request],
    mode: str,
    *,
    send: Callable[[Request], Answer],
    faults: _Faults,
    counts: dict[str, int],
    reasons: collections.Counter[str],
) -> None:
    @seed(SEED)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        req = data.draw(requests)
        counts["requests"] += 1
        why: list[str] = []
        try:
            check(req, send(req))
        except Exception as exc:  # noqa: BLE001 - counted, not raised
            why.append(f"{type(exc).__name__}: {str(exc)[:160]}")
        why += faults.found
        faults.found.clear()
        if why:
            counts["failed"] += 1
            reasons[f"{mode}: {_NOISE.sub('…', why[0])}"] += 1

    run()


def main(examples: int, modes: list[str]) -> int:
    """Run and print the counts; the exit status is 1 when any request failed."""
    faults = _Faults()
    logging.getLogger().addHandler(faults)
    reasons: collections.Counter[str] = collections.Counter()
    counts = {"requests": 0, "failed": 0}
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    scm = SCMConfig(
        api_base_urls={"github.com": nowhere, "gitlab.com": nowhere},
        web_base_urls={"github.com": nowhere, "gitlab.com": nowhere},
        timeout_s=2,
    )
    with (
        running_server(Path(tempfile.mkdtemp()), scm=scm) as (url, token),
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        created = client.post(
            "/gitpod.v1.RunnerService/CreateRunner",
            json={"name": "fuzz", "provider": "RUNNER_PROVIDER_GCP"},
            headers={"authorization": f"Bearer {token}"},
        )
        runner_id = created.json()["runner"]["runnerId"]
        for mode in modes:
            for rpc in RPCS:
                _run(
                    examples,
                    request(mode, rpc),
                    mode,
                    send=lambda req: req.send(client, token, runner_id),
                    faults=faults,
                    counts=counts,
                    reasons=reasons,
                )
    closed.close()
    print(f"{counts['failed']} of {counts['requests']} requests failed")
    for reason, n in reasons.most_common():
        print(f"{n:6d}  {reason}")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(
        main(int(args[0]) if args else 100, args[1].split(",") if len(args) > 1 else list(MODES))
    )
