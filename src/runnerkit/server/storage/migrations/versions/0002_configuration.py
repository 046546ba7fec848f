"""Runner configuration: environment classes, SCM integrations, host authentication tokens.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _runner_id() -> sa.Column[str]:
    return sa.Column(
        "runner_id", sa.String(36), sa.ForeignKey("runners.id", ondelete="CASCADE"), nullable=False
    )


def _times() -> list[sa.Column[int]]:
    return [
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    """Create the three tables and the indexes serving keyset order and list filters."""
    op.create_table(
        "environment_classes",
        sa.Column("id", sa.String(36), primary_key=True),
        _runner_id(),
        sa.Column("display_name", sa.String(127), nullable=False),
        sa.Column("description", sa.String(512), nullable=False),
        sa.Column("configuration", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        *_times(),
    )
    op.create_index("ix_environment_classes_order", "environment_classes", ["created_at", "id"])
    op.create_index(
        "ix_environment_classes_runner", "environment_classes", ["runner_id", "created_at", "id"]
    )
    op.create_index(
        "ix_environment_classes_enabled", "environment_classes", ["enabled", "created_at", "id"]
    )
    op.create_table(
        "scm_integrations",
        sa.Column("id", sa.String(36), primary_key=True),
        _runner_id(),
        sa.Column("scm_id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("oauth_client_id", sa.String(255), nullable=True),
        sa.Column("oauth_client_secret_sealed", sa.LargeBinary, nullable=False),
        sa.Column("issuer_url", sa.String(2048), nullable=True),
        sa.Column("pat", sa.Boolean, nullable=False),
        sa.Column("virtual_directory", sa.String(255), nullable=True),
        *_times(),
        sa.UniqueConstraint("runner_id", "host", name="uq_scm_integrations_runner_host"),
    )
    op.create_index("ix_scm_integrations_order", "scm_integrations", ["created_at", "id"])
    op.create_index(
        "ix_scm_integrations_runner", "scm_integrations", ["runner_id", "created_at", "id"]
    )
    op.create_table(
        "host_auth_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        _runner_id(),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("subject_principal", sa.Integer, nullable=False),
        sa.Column("source", sa.Integer, nullable=False),
        sa.Column("token_sealed", sa.LargeBinary, nullable=False),
        sa.Column("refresh_token_sealed", sa.LargeBinary, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.Column(
            "integration_id",
            sa.String(36),
            sa.ForeignKey("scm_integrations.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column("scopes", sa.Text, nullable=False),
        *_times(),
        sa.UniqueConstraint(
            "runner_id", "host", "subject_id", name="uq_host_auth_tokens_runner_host_subject"
        ),
    )
    op.create_index("ix_host_auth_tokens_order", "host_auth_tokens", ["created_at", "id"])
    op.create_index(
        "ix_host_auth_tokens_runner", "host_auth_tokens", ["runner_id", "created_at", "id"]
    )
    op.create_index(
        "ix_host_auth_tokens_subject", "host_auth_tokens", ["subject_id", "created_at", "id"]
    )


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    for table in ("host_auth_tokens", "scm_integrations", "environment_classes"):
        op.drop_table(table)
