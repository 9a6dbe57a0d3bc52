"""Renders table; index (size, fingerprint) so moved files are matched without a table scan.

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


def upgrade() -> None:
    op.create_table(
        "renders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("recipe_toml", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("asset_ids", sa.JSON(), nullable=False),
        sa.Column("output_path", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
    )
    op.create_index("ix_renders_created", "renders", ["created"])
    op.create_index("ix_assets_size_fingerprint", "assets", ["size", "fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_assets_size_fingerprint", "assets")
    op.drop_table("renders")
