"""SQLAlchemy tables of the catalog. The Alembic migrations in ``migrations/`` (project root)
create them; a test checks that the migrations and these models agree.

Identity columns (kind, base, ...) hold the *effective* values, user overrides applied, so that
queries are plain column filters; ``identity`` holds what identify found, untouched.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class AssetRow(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text, index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    device: Mapped[int] = mapped_column(BigInteger)
    inode: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)  # ok | missing | unreadable
    error: Mapped[str | None] = mapped_column(Text)
    # Effective identity (overrides applied), as queryable columns.
    kind: Mapped[str] = mapped_column(String(32), index=True)
    base: Mapped[str] = mapped_column(String(32), index=True)
    edition: Mapped[str | None] = mapped_column(String(32))
    variant: Mapped[str | None] = mapped_column(String(32))
    lineage: Mapped[str | None] = mapped_column(String(64))
    precision: Mapped[str | None] = mapped_column(String(16))
    style: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    # What identify answered (Identity.to_json), the header's metadata, non-fatal problems.
    identity: Mapped[dict[str, Any]] = mapped_column(JSON)
    header_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    # SHA-256 of the first bytes (header region): finds a moved file without hashing it all.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    folder_hint: Mapped[str | None] = mapped_column(String(64))  # e.g. "a1111:lora"
    overrides: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    first_seen: Mapped[float] = mapped_column(Float)
    # When a scan last wrote this row (new, changed, moved, missing). An unchanged file was
    # also seen at its root's roots.last_scan: rescans do not rewrite unchanged rows.
    last_seen: Mapped[float] = mapped_column(Float)

    hashes: Mapped[HashRow | None] = relationship(
        back_populates="asset", cascade="all, delete-orphan", lazy="joined"
    )
    tags: Mapped[list[TagRow]] = relationship(
        back_populates="asset", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        Index("ix_assets_device_inode", "device", "inode"),
        Index("ix_assets_size_fingerprint", "size", "fingerprint"),
        Index(
            "ix_assets_scan_state",
            "path",
            "size",
            "mtime_ns",
            "inode",
            "device",
            "status",
        ),
    )


class HashRow(Base):
    """Locally computed hashes and the (size, mtime_ns, inode) of the file they were made from."""

    __tablename__ = "asset_hashes"

    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    addnet: Mapped[str | None] = mapped_column(String(64), index=True)
    a1111_legacy: Mapped[str | None] = mapped_column(String(16), index=True)
    blake3: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    inode: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[float] = mapped_column(Float)

    asset: Mapped[AssetRow] = relationship(back_populates="hashes")


class TagRow(Base):
    __tablename__ = "asset_tags"

    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)

    asset: Mapped[AssetRow] = relationship(back_populates="tags")


class RootRow(Base):
    """A folder the user scanned; ``pantry scan`` with no arguments rescans these."""

    __tablename__ = "roots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    added: Mapped[float] = mapped_column(Float)
    last_scan: Mapped[float | None] = mapped_column(Float)


class RenderRow(Base):
    """One finished render: the recipe as TOML, the assets it used, where the image went."""

    __tablename__ = "renders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipe_toml: Mapped[str] = mapped_column(Text)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    asset_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    output_path: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float | None] = mapped_column(Float)
    created: Mapped[float] = mapped_column(Float, index=True)
