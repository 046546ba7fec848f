"""Initial schema: subjects, API tokens, runners, runner tokens and runner policies.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_KIND_LOCAL_CONFIGURATION = 3


def upgrade() -> None:
    """Create the tables and the indexes that serve the list filters."""
    op.create_table(
        "subjects",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("principal", sa.Integer, nullable=False),
        sa.Column("name", sa.String(127), nullable=False),
        sa.Column("org_admin", sa.Boolean, nullable=False),
        sa.Column("runner_creator", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "subject_groups",
        sa.Column(
            "subject_id",
            sa.String(36),
            sa.ForeignKey("subjects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("group_id", sa.String(36), primary_key=True),
    )
    op.create_table(
        "api_tokens",
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
    op.create_table(
        "runners",
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
    op.create_index("ix_runners_order", "runners", ["created_at", "id"])
    op.create_index("ix_runners_creator", "runners", ["creator_id", "created_at", "id"])
    op.create_index("ix_runners_kind", "runners", ["kind", "created_at", "id"])
    op.create_index("ix_runners_provider", "runners", ["provider", "created_at", "id"])
    only_local_configuration = sa.text(f"kind = {_KIND_LOCAL_CONFIGURATION}")
    op.create_index(
        "uq_runners_local_configuration",
        "runners",
        ["kind"],
        unique=True,
        sqlite_where=only_local_configuration,
        postgresql_where=only_local_configuration,
    )
    op.create_table(
        "runner_tokens",
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
    op.create_table(
        "runner_policies",
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
    )
    op.create_index("ix_runner_policies_group", "runner_policies", ["group_id", "runner_id"])


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    for table in ("runner_policies", "runner_tokens", "runners", "api_tokens", "subject_groups"):
        op.drop_table(table)
    op.drop_table("subjects")
