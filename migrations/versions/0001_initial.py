"""Initial catalog: assets, their hashes and tags, scanned roots.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("path", sa.Text(), nullable=False, unique=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("device", sa.BigInteger(), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("base", sa.String(32), nullable=False),
        sa.Column("edition", sa.String(32), nullable=True),
        sa.Column("variant", sa.String(32), nullable=True),
        sa.Column("lineage", sa.String(64), nullable=True),
        sa.Column("precision", sa.String(16), nullable=True),
        sa.Column("style", sa.String(16), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("identity", sa.JSON(), nullable=False),
        sa.Column("header_metadata", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("folder_hint", sa.String(64), nullable=True),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=True),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
    )
    op.create_index("ix_assets_name", "assets", ["name"])
    op.create_index("ix_assets_status", "assets", ["status"])
    op.create_index("ix_assets_kind", "assets", ["kind"])
    op.create_index("ix_assets_base", "assets", ["base"])
    op.create_index("ix_assets_device_inode", "assets", ["device", "inode"])

    op.create_table(
        "asset_hashes",
        sa.Column(
            "asset_id",
            sa.Integer(),
            sa.ForeignKey("assets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("addnet", sa.String(64), nullable=True),
        sa.Column("a1111_legacy", sa.String(16), nullable=True),
        sa.Column("blake3", sa.String(64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.Float(), nullable=False),
    )
    for column in ("sha256", "addnet", "a1111_legacy", "blake3"):
        op.create_index(f"ix_asset_hashes_{column}", "asset_hashes", [column])

    op.create_table(
        "asset_tags",
        sa.Column(
            "asset_id",
            sa.Integer(),
            sa.ForeignKey("assets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(128), primary_key=True),
    )
    op.create_index("ix_asset_tags_tag", "asset_tags", ["tag"])

    op.create_table(
        "roots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("path", sa.Text(), nullable=False, unique=True),
        sa.Column("added", sa.Float(), nullable=False),
        sa.Column("last_scan", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("roots")
    op.drop_table("asset_tags")
    op.drop_table("asset_hashes")
    op.drop_table("assets")
