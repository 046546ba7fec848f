"""SQLAlchemy Core tables of the runner configuration, on the shared ``tables.metadata``.

Created by migration ``0002``; a test compares the two with Alembic's ``compare_metadata``. Everything belongs
to a runner (``ON DELETE CASCADE``); a host token's link to its SCM integration is cleared
when the integration goes (``ON DELETE SET NULL``). Indexes serve the keyset order
``(created_at, id)`` and the list filters.
"""

from __future__ import annotations

import sqlalchemy as sa

from runnerkit.server.storage.tables import metadata


def _runner_fk() -> sa.ForeignKey:
    return sa.ForeignKey("runners.id", ondelete="CASCADE")


environment_classes = sa.Table(
    "environment_classes",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("runner_id", sa.String(36), _runner_fk(), nullable=False),
    sa.Column("display_name", sa.String(127), nullable=False),
    sa.Column("description", sa.String(512), nullable=False),
    sa.Column("configuration", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_environment_classes_order", "created_at", "id"),
    sa.Index("ix_environment_classes_runner", "runner_id", "created_at", "id"),
    sa.Index("ix_environment_classes_enabled", "enabled", "created_at", "id"),
)

scm_integrations = sa.Table(
    "scm_integrations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("runner_id", sa.String(36), _runner_fk(), nullable=False),
    sa.Column("scm_id", sa.String(64), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("oauth_client_id", sa.String(255), nullable=True),
    sa.Column("oauth_client_secret_sealed", sa.LargeBinary, nullable=False),
    sa.Column("issuer_url", sa.String(2048), nullable=True),
    sa.Column("pat", sa.Boolean, nullable=False),
    sa.Column("virtual_directory", sa.String(255), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("runner_id", "host", name="uq_scm_integrations_runner_host"),
    sa.Index("ix_scm_integrations_order", "created_at", "id"),
    sa.Index("ix_scm_integrations_runner", "runner_id", "created_at", "id"),
)

host_tokens = sa.Table(
    "host_auth_tokens",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("runner_id", sa.String(36), _runner_fk(), nullable=False),
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
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint(
        "runner_id", "host", "subject_id", name="uq_host_auth_tokens_runner_host_subject"
    ),
    sa.Index("ix_host_auth_tokens_order", "created_at", "id"),
    sa.Index("ix_host_auth_tokens_runner", "runner_id", "created_at", "id"),
    sa.Index("ix_host_auth_tokens_subject", "subject_id", "created_at", "id"),
)
