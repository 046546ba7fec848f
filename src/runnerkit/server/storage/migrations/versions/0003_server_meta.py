"""Server metadata: small named values about the database itself (the master-key verifier).

Revision ID: 0003_server_meta
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_server_meta"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``server_meta``."""
    op.create_table(
        "server_meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop ``server_meta``."""
    op.drop_table("server_meta")
