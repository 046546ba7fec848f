"""The store on SQLAlchemy Core 2: one implementation for SQLite and PostgreSQL.

``SQLStore`` (``store.py``) on the units of work of ``store_base.py``; engines (SQLite pragmas,
the PostgreSQL pool) and migrations live in ``engine.py``. This module keeps the names together
for callers that import them from one place.
"""

from __future__ import annotations

from runnerkit.server.storage.engine import create_engine, migrate
from runnerkit.server.storage.store import SQLStore

__all__ = ["SQLStore", "create_engine", "migrate"]
