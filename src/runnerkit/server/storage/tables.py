"""SQLAlchemy Core tables the queries use; the schema itself is created by the migrations.

Keep in step with ``migrations/versions``: a test compares these with the migrated database.
"""

from __future__ import annotations

import sqlalchemy as sa

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
    sa.Column("subject_id", sa.String(36), sa.ForeignKey("subjects.id"), primary_key=True),
    sa.Column("group_id", sa.String(36), primary_key=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("subject_id", sa.String(36), sa.ForeignKey("subjects.id"), nullable=False),
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
)

runner_tokens = sa.Table(
    "runner_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("runner_id", sa.String(36), sa.ForeignKey("runners.id"), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("used_at", sa.BigInteger, nullable=True),
)

runner_policies = sa.Table(
    "runner_policies",
    metadata,
    sa.Column("runner_id", sa.String(36), sa.ForeignKey("runners.id"), primary_key=True),
    sa.Column("group_id", sa.String(36), primary_key=True),
    sa.Column("role", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# Named values about the database itself, e.g. the master-key verifier (storage/sql_admin.py).
server_meta = sa.Table(
    "server_meta",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
