"""Small readers of a ResolvedRecipe shared by the rule modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pantry.recipes.model import Resolution, ResolvedRecipe

UNKNOWN = "unknown"

SLOT_WORDS = {
    "checkpoint": "checkpoint",
    "vae": "VAE",
    "lora": "LoRA",
    "embedding": "embedding",
    "controlnet": "ControlNet",
}


def label(resolution: Resolution) -> str:
    """How a message names an asset: its slot word and catalog name (or the ref as written)."""
    name = resolution.asset.name if resolution.asset is not None else resolution.ref
    return f"{SLOT_WORDS.get(resolution.slot, resolution.slot)} '{name}'"


def found(resolved: ResolvedRecipe, slot: str | None = None) -> Iterator[Resolution]:
    """Resolutions that reached a catalogued asset (optionally of one slot)."""
    for resolution in resolved.all():
        if resolution.asset is not None and (slot is None or resolution.slot == slot):
            yield resolution


def usable_checkpoint(resolved: ResolvedRecipe) -> Resolution | None:
    """The checkpoint resolution when it found a usable checkpoint-kind asset."""
    res = resolved.checkpoint
    if res.asset is None or res.asset.status != "ok":
        return None
    return res if res.asset.kind in ("checkpoint", "diffusion_model") else None


def known_base(asset: Any) -> str | None:
    return asset.identity.base if asset.identity.base != UNKNOWN else None


def base_words(asset: Any) -> str:
    """e.g. ``sdxl`` or ``sdxl (pony)``."""
    identity = asset.identity
    return f"{identity.base} ({identity.lineage})" if identity.lineage else identity.base


def metadata_int(metadata: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    """The first of ``keys`` whose value reads as an integer."""
    for key in keys:
        value = metadata.get(key)
        try:
            return int(str(value).strip())
        except (TypeError, ValueError):
            continue
    return None
