"""A small in-memory catalog with the lookup methods recipes use (resolve, find_by_hash, find).

It follows pantry.Catalog's contract: REFs are names (file stem or file name, exact then any
case), ids, paths or hash prefixes of 8+ hex; a kind filter that excludes every candidate is
"not found"; several candidates are ambiguous.
"""

from __future__ import annotations

import re
from pathlib import Path

from pantry.catalog.asset import HASH_ADDNET, HASH_LEGACY, HASH_SHA256, Asset
from pantry.errors import AmbiguousRefError, RefNotFoundError
from pantry.identify.identity import Identity

HEX = re.compile(r"^(?:0x)?([0-9a-fA-F]{8,64})$")


def make_asset(
    asset_id: int,
    name: str,
    kind: str,
    *,
    sha256: str | None = None,
    addnet: str | None = None,
    legacy: str | None = None,
    metadata: dict | None = None,
    provenance: dict | None = None,
    suffix: str = ".safetensors",
    folder: str = "/models",
) -> Asset:
    hashes = {HASH_SHA256: sha256 or f"{asset_id:02d}" * 32}
    if addnet:
        hashes[HASH_ADDNET] = addnet
    if legacy:
        hashes[HASH_LEGACY] = legacy
    return Asset(
        id=asset_id,
        path=Path(folder) / kind / f"{name}{suffix}",
        name=name,
        size=1000,
        format="safetensors",
        status="ok",
        identity=Identity(kind=kind, base="sd1", metadata=metadata or {}),
        hashes=hashes,
        provenance=provenance,
    )


class FakeCatalog:
    def __init__(self, assets: list[Asset]):
        self.assets = assets

    def find(self, kind: str | None = None, **_filters) -> list[Asset]:
        return [a for a in self.assets if kind is None or a.kind == kind]

    def find_by_hash(self, prefix: str) -> list[Asset]:
        match = HEX.match(prefix.strip())
        if not match:
            return []
        wanted = match.group(1).lower()
        return [a for a in self.assets if any(h.startswith(wanted) for h in a.hashes.values())]

    def resolve(self, ref: str, kind: str | None = None) -> Asset:
        text = str(ref).strip()
        candidates = (
            [a for a in self.assets if text.isdigit() and a.id == int(text)]
            or [a for a in self.assets if str(a.path) == text]
            or [a for a in self.assets if text in (a.name, a.path.name)]
            or [a for a in self.assets if a.name.lower() == text.lower()]
            or self.find_by_hash(text)
        )
        if not candidates:
            raise RefNotFoundError(text)
        if kind:
            candidates = [a for a in candidates if a.kind == kind]
            if not candidates:
                raise RefNotFoundError(text, f"it is not a {kind}")
        if len(candidates) > 1:
            raise AmbiguousRefError(text, candidates)
        return candidates[0]
