"""What the engine set-up and the store agree on about connections."""

from __future__ import annotations

# Execution option marking a SQLAlchemy write transaction (SQLite opens it with BEGIN IMMEDIATE);
# the migrations run with it. The store's own transactions emit their BEGIN themselves.
WRITE_OPTION = "runnerkit_write"
