"""SQLAlchemy Core tables of subjects, tokens, runners and policies: the schema as migrated.

The migrations (``migrations/versions``) create the schema; these tables describe its newest
revision, constraints and indexes included, and a test compares the two with Alembic's
``compare_metadata`` on SQLite and PostgreSQL. Owned rows go with their owner (foreign keys
``ON DELETE CASCADE``). A runner policy repeats its runner's creation time
(``runner_created_at``, never changed) so that a caller's shared runners are read in keyset
order ``(created_at, id)`` straight from ``ix_runner_policies_group_order``.
"""

from __future__ import annotations

import sqlalchemy as sa

# The one LOCAL_CONFIGURATION runner a store may hold (RunnerKind value; a partial unique index).
KIND_LOCAL_CONFIGURATION = 3

metadata = sa.MetaData()

subjects = sa.Table(
    "subjects",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("principal", sa.Integer, nullable=False),
    sa.Column("name", sa.String(127), nullable=False),
    sa.Column("org_admin", sa.Boolean, nullable=False),
    sa.Column("runner_creator", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

subject_groups = sa.Table(
    "subject_groups",
    metadata,
    sa.Column(
        "subject_id",
        sa.String(36),
        sa.ForeignKey("subjects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("group_id", sa.String(36), primary_key=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "subject_id",
        sa.String(36),
        sa.ForeignKey("subjects.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

runners = sa.Table(
    "runners",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(127), nullable=False),
    sa.Column("kind", sa.Integer, nullable=False),
    sa.Column("provider", sa.Integer, nullable=False),
    sa.Column("runner_manager_id", sa.String(36), nullable=False),
    sa.Column("creator_id", sa.String(36), nullable=False),
    sa.Column("creator_principal", sa.Integer, nullable=False),
    sa.Column("spec", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.LargeBinary, nullable=False),
    sa.Column("public_key", sa.LargeBinary, nullable=False),
    sa.Column("wrapped_private_key", sa.LargeBinary, nullable=False),
    sa.Column("metrics_password_sealed", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_runners_order", "created_at", "id"),
    sa.Index("ix_runners_creator", "creator_id", "created_at", "id"),
    sa.Index("ix_runners_kind", "kind", "created_at", "id"),
    sa.Index("ix_runners_provider", "provider", "created_at", "id"),
    sa.Index(
        "uq_runners_local_configuration",
        "kind",
        unique=True,
        sqlite_where=sa.text(f"kind = {KIND_LOCAL_CONFIGURATION}"),
        postgresql_where=sa.text(f"kind = {KIND_LOCAL_CONFIGURATION}"),
    ),
)

runner_tokens = sa.Table(
    "runner_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "runner_id",
        sa.String(36),
        sa.ForeignKey("runners.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("used_at", sa.BigInteger, nullable=True),
)

runner_policies = sa.Table(
    "runner_policies",
    metadata,
    sa.Column(
        "runner_id",
        sa.String(36),
        sa.ForeignKey("runners.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("group_id", sa.String(36), primary_key=True),
    sa.Column("role", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("runner_created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_runner_policies_group_order", "group_id", "runner_created_at", "runner_id"),
)

# Named values about the database itself, e.g. the master-key verifier (storage/sql_admin.py).
server_meta = sa.Table(
    "server_meta",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
