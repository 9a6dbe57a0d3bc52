"""Renders table; indexes that let a rescan and move detection read no row bodies.

ix_assets_size_fingerprint: match a moved file by size and fingerprint.
ix_assets_scan_state: covers every column a rescan compares, so a rescan of 50,000 unchanged
files reads one compact index instead of rows full of identity JSON.

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
    op.create_index(
        "ix_assets_scan_state",
        "assets",
        ["path", "size", "mtime_ns", "inode", "device", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_assets_scan_state", "assets")
    op.drop_index("ix_assets_size_fingerprint", "assets")
    op.drop_table("renders")
