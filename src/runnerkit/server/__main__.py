"""``python -m runnerkit.server``: the same as ``runnerkit serve``."""

from __future__ import annotations

from runnerkit.cli.serve import serve

if __name__ == "__main__":
    serve(prog_name="python -m runnerkit.server")
