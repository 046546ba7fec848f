"""Local reference server for the Gitpod Runner management API.

``build_services`` opens everything the handlers need; ``create_app`` builds the ASGI app;
``bootstrap_admin`` creates the first admin of an empty store.
"""

from __future__ import annotations

from runnerkit.server.app import create_app
from runnerkit.server.bootstrap import bootstrap_admin, build_services, create_subject

__all__ = ["bootstrap_admin", "build_services", "create_app", "create_subject"]
