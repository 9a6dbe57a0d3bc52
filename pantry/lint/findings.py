"""What rules report (Hit) and what the linter returns (Finding)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pantry.lint.registry import Family, Severity
from pantry.recipes.model import Resolution


@dataclass
class Hit:
    """One problem a rule saw. The runner adds code, severity, file and line.

    ``field`` names the recipe key the problem is about (its line is looked up in
    ``Recipe.lines``); assets with their own recipe line (LoRAs) point there instead.
    """

    message: str
    assets: list[Resolution] = field(default_factory=list)
    field: str | None = None


@dataclass(frozen=True)
class AssetRef:
    slot: str
    ref: str
    asset_id: int | None
    path: str | None

    @classmethod
    def of(cls, resolution: Resolution) -> AssetRef:
        asset = resolution.asset
        return cls(
            slot=resolution.slot,
            ref=resolution.ref,
            asset_id=getattr(asset, "id", None),
            path=str(asset.path) if asset is not None else None,
        )


@dataclass
class Finding:
    code: str
    name: str
    family: Family
    severity: Severity
    message: str
    file: Path | None
    line: int | None
    assets: list[AssetRef] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "family": self.family.value,
            "severity": self.severity.value,
            "message": self.message,
            "file": str(self.file) if self.file else None,
            "line": self.line,
            "assets": [vars(a).copy() for a in self.assets],
        }
