"""driver accounts

What users says about a driver's account (its account events): ``active`` (only an
active account with role DRIVER is dispatched or goes on duty; every existing driver
starts active), ``next_store_id`` (a store change waiting for the driver's orders to
end) and ``account_changed_at`` (when the latest account event applied happened).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 04:49:24.833385
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("next_store_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("account_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.drop_column("account_changed_at")
        batch_op.drop_column("next_store_id")
        batch_op.drop_column("active")
