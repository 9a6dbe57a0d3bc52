"""LoRAs for transformers that share module names and widths with a known base but are not it.

HunyuanVideo and Qwen-Image LoRAs patch 3072-wide "double_blocks"/"transformer_blocks" like
Flux.1; LTX-Video's "transformer_blocks.N.attn2.to_k" takes 2048 features like SDXL's
cross-attention. A width check alone would name a base with confidence and be wrong, so these
are ruled out first and the LoRA stays "unknown" with the reason.
"""

from __future__ import annotations

import re
from collections import Counter

from pantry.formats.header import TensorInfo
from pantry.identify.signatures import (
    FLUX1_BLOCK_COUNTS,
    FLUX1_HIDDEN,
    LORA_DIT_BLOCK_MARKERS,
    LORA_DOWN_ROLES,
    LORA_LOOKALIKE_MARKERS,
    LORA_UNET_BLOCK_MARKERS,
)

_BLOCK_INDEX = {
    "double": re.compile(r"double_blocks[._](\d+)[._]"),
    "single": re.compile(r"single_(?:transformer_)?blocks[._](\d+)[._]"),
    # diffusers Flux names its double-stream blocks plain "transformer_blocks"
    "double_diffusers": re.compile(r"(?<!single_)transformer_blocks[._](\d+)[._]"),
}


# One compiled alternation per marker list: called for every module of every LoRA.
_UNET_BLOCK = re.compile("|".join(map(re.escape, LORA_UNET_BLOCK_MARKERS)))
_DIT_BLOCK = re.compile("|".join(map(re.escape, LORA_DIT_BLOCK_MARKERS)))


def in_unet_block(name: str) -> bool:
    """Whether a module sits in a UNet's attention blocks (SD1/SD2/SDXL naming)."""
    return _UNET_BLOCK.search(name) is not None


def in_dit_block(name: str) -> bool:
    """Whether a module sits in a transformer block of a DiT (not a UNet's attention block)."""
    return _DIT_BLOCK.search(name) is not None and _UNET_BLOCK.search(name) is None


def lookalike_reason(modules: dict[str, dict[str, TensorInfo]]) -> str | None:
    """Why these modules belong to no base pantry knows, though they resemble one; else None."""
    names = [n for n in modules if not in_unet_block(n)]
    for marker, family in LORA_LOOKALIKE_MARKERS:
        hit = next((n for n in names if marker in n), None)
        if hit is not None:
            return (
                f"module {hit!r} has {family}'s naming ({marker!r}); pantry does not know "
                f"{family}, and its widths resemble another base's"
            )
    widths = Counter(w for n in names if in_dit_block(n) and (w := _in_width(modules[n])))
    if not widths or widths.most_common(1)[0][0] != FLUX1_HIDDEN:
        return None
    for kind, pattern in _BLOCK_INDEX.items():
        indices = [int(m.group(1)) for n in names if (m := pattern.search(n))]
        limit = FLUX1_BLOCK_COUNTS["single" if kind == "single" else "double"]
        if indices and max(indices) >= limit:
            return (
                f"{kind.split('_')[0]}-stream block index {max(indices)} at width "
                f"{FLUX1_HIDDEN}: Flux.1 has only {limit} such blocks (numbered from 0), so this "
                "is another transformer (HunyuanVideo and Qwen-Image look alike)"
            )
    return None


def _in_width(parts: dict[str, TensorInfo]) -> int | None:
    for role in LORA_DOWN_ROLES:
        info = parts.get(role)
        if info is not None and len(info.shape) >= 2:
            return info.shape[1]
    return None
