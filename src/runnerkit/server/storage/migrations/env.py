"""Alembic environment: migrations run only programmatically, on a connection we pass in.

``runnerkit.server.storage.engine.migrate`` puts an open ``Connection`` into
``config.attributes["connection"]``; there is no alembic.ini and no offline (SQL script) mode.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
