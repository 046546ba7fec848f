"""runnerkit: a typed toolkit for the Gitpod (Ona) Runner management API.

The generated protobuf messages and Connect clients live in the ``runnerkit_proto``
package (``runnerkit_proto.gitpod.v1``), built from ``proto/`` by ``make gen``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
