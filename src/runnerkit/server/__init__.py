"""Local reference server for the Gitpod Runner management API.

``build_services`` opens everything the handlers need; ``create_app`` builds the ASGI app;
``bootstrap_admin`` creates the first admin of an empty store. They are imported on first
use, so that light modules of the package (``settings``, ``domain``) load fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runnerkit.server.app import create_app
    from runnerkit.server.bootstrap import bootstrap_admin, build_services, create_subject

__all__ = ["bootstrap_admin", "build_services", "create_app", "create_subject"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from runnerkit.server import app  # noqa: PLC0415

        return app.create_app
    if name in {"bootstrap_admin", "build_services", "create_subject"}:
        from runnerkit.server import bootstrap  # noqa: PLC0415

        return getattr(bootstrap, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
