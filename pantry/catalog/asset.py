"""Asset: one catalogued file or diffusers folder, as the layers above the catalog see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pantry.identify.identity import Identity

# Keys of Asset.hashes. AutoV2 / A1111 "Model hash" = sha256[:10]; AutoV3 = addnet[:12];
# A1111 LoRA/TI shorthash = 12 hex; legacy = A1111's old 8-hex model hash (AutoV1).
HASH_SHA256 = "sha256"  # full file, 64 hex
HASH_ADDNET = "addnet"  # SHA-256 of the safetensors data region (after 8 + N bytes), 64 hex
HASH_LEGACY = "a1111_legacy"  # SHA-256 of 64 KiB at offset 1 MiB, first 8 hex
HASH_BLAKE3 = "blake3"  # full file, 64 hex


@dataclass
class Asset:
    id: int
    path: Path
    name: str  # file stem (folder name for diffusers folders); what recipes usually say
    size: int
    format: str  # safetensors | pickle | diffusers
    status: str  # ok | missing | unreadable
    identity: Identity  # user overrides already applied
    hashes: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # reason, when unreadable
    provenance: dict[str, Any] | None = None  # e.g. {"source": "huggingface", "repo": ...}

    @property
    def kind(self) -> str:
        return self.identity.kind

    @property
    def base(self) -> str:
        return self.identity.base

    @property
    def autov2(self) -> str | None:
        sha = self.hashes.get(HASH_SHA256)
        return sha[:10] if sha else None
