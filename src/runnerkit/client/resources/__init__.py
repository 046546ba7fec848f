"""The facade's namespaces, mirroring the reference SDK: ``client.runners`` and below."""

from __future__ import annotations

from runnerkit.client.resources.runners import RunnersResource

__all__ = ["RunnersResource"]
