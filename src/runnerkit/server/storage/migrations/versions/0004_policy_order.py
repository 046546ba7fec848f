"""Runner policies carry their runner's creation time: a caller's shared runners in keyset order.

A non-admin's ListRunners reads the runners its groups hold policies on in ``(created_at, id)``
order. With only ``(group_id, runner_id)`` indexed, the database had to collect every policy
of the group and sort the runners: the cost grew with the policies held. With the runner's
``created_at`` in the policy row (it never changes) and ``(group_id, runner_created_at,
runner_id)`` indexed, a page reads ``limit`` index entries, however many policies there are.
The new index also serves every look-up the old ``(group_id, runner_id)`` one did.

Revision ID: 0004_policy_order
Revises: 0003_server_meta
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_policy_order"
down_revision = "0003_server_meta"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add and fill ``runner_policies.runner_created_at``; swap the group index."""
    op.drop_index("ix_runner_policies_group", table_name="runner_policies")
    op.add_column("runner_policies", sa.Column("runner_created_at", sa.BigInteger, nullable=True))
    op.execute(
        "UPDATE runner_policies SET runner_created_at ="
        " (SELECT created_at FROM runners WHERE runners.id = runner_policies.runner_id)"
    )
    with op.batch_alter_table("runner_policies") as batch:  # SQLite: recreates the table
        batch.alter_column("runner_created_at", existing_type=sa.BigInteger, nullable=False)
    op.create_index(
        "ix_runner_policies_group_order",
        "runner_policies",
        ["group_id", "runner_created_at", "runner_id"],
    )


def downgrade() -> None:
    """Back to the ``(group_id, runner_id)`` index without the creation time."""
    op.drop_index("ix_runner_policies_group_order", table_name="runner_policies")
    with op.batch_alter_table("runner_policies") as batch:
        batch.drop_column("runner_created_at")
    op.create_index("ix_runner_policies_group", "runner_policies", ["group_id", "runner_id"])
