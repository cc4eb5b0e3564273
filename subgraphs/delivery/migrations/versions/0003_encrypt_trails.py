"""encrypt trails

The coordinates of driver trail points become AES-GCM ciphertext (``shared.crypto``,
ADR 0012): lat/lng change from FLOAT to TEXT, then every existing point is encrypted
with the newest data key. The downgrade decrypts them back to floats.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 03:39:13.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.crypto import reencrypt_columns

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not read from models.py): column -> associated data.
ENCRYPTED = {"lat": "trail_points.lat", "lng": "trail_points.lng"}


def upgrade() -> None:
    with op.batch_alter_table("trail_points", schema=None) as batch_op:
        for name in ENCRYPTED:
            batch_op.alter_column(
                name,
                existing_type=sa.Float(),
                type_=sa.Text(),
                existing_nullable=False,
                postgresql_using=f"{name}::text",
            )
    # Data step: encrypt the points written in plaintext before this revision.
    reencrypt_columns(op.get_bind(), "trail_points", ["id"], ENCRYPTED)  # keys load if needed


def downgrade() -> None:
    reencrypt_columns(op.get_bind(), "trail_points", ["id"], ENCRYPTED, decrypt=True)
    with op.batch_alter_table("trail_points", schema=None) as batch_op:
        for name in ENCRYPTED:
            batch_op.alter_column(
                name,
                existing_type=sa.Text(),
                type_=sa.Float(),
                existing_nullable=False,
                postgresql_using=f"{name}::double precision",
            )
