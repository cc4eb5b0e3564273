"""encrypt personal data

Phone and address lines (and courier instructions) become AES-GCM ciphertext
(``shared.crypto``, ADR 0012): the columns widen to TEXT, then every existing
plaintext value is encrypted with the newest data key. The downgrade decrypts
them back before narrowing the columns.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 03:39:12.788147
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.crypto import reencrypt_columns

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not read from models.py): table -> {column: associated data}.
ENCRYPTED = {
    "users": {"phone": "users.phone"},
    "addresses": {
        "line1": "addresses.line1",
        "line2": "addresses.line2",
        "instructions": "addresses.instructions",
    },
}


def upgrade() -> None:
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.alter_column(
            "line1", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False
        )
        batch_op.alter_column(
            "line2", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=True
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "phone", existing_type=sa.String(length=40), type_=sa.Text(), existing_nullable=True
        )
    # Data step: encrypt the rows written in plaintext before this revision.
    for table, columns in ENCRYPTED.items():  # keys load only if a row needs them
        reencrypt_columns(op.get_bind(), table, ["id"], columns)


def downgrade() -> None:
    for table, columns in ENCRYPTED.items():
        reencrypt_columns(op.get_bind(), table, ["id"], columns, decrypt=True)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "phone", existing_type=sa.Text(), type_=sa.String(length=40), existing_nullable=True
        )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.alter_column(
            "line2", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=True
        )
        batch_op.alter_column(
            "line1", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False
        )
