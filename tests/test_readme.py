"""The README's Python snippets run, in order, against a live reference server."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.server import running_server

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_snippets_run(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) >= 2
    printed: list[str] = []
    with running_server(tmp_path) as (base_url, token):
        namespace: dict[str, object] = {"print": lambda *a: printed.append(" ".join(map(str, a)))}
        for block in blocks:
            code = block.replace("http://127.0.0.1:8080", base_url).replace("rk_...", token)
            exec(compile(code, str(README), "exec"), namespace)
    # The first snippet lists the runner it created; the second reads its public key.
    assert any("Production Runner" in line for line in printed)
    assert len(printed[-1]) == 64
