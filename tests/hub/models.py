"""Small but valid safetensors files (≥ 1 MiB) that look like real model files."""

from __future__ import annotations

import json
import math
import random
from functools import cache

# A kohya-style SD1 LoRA: lora_down/lora_up pairs with alphas on the UNet's attention layers.
_SD1_ATTENTION = [
    f"lora_unet_down_blocks_0_attentions_{a}_transformer_blocks_0_{layer}"
    for a in (0, 1)
    for layer in ("attn1_to_q", "attn1_to_k", "attn1_to_v", "attn1_to_out_0", "attn2_to_q")
]
KOHYA_METADATA = {"ss_network_module": "networks.lora", "ss_base_model_version": "sd_v1"}


def kohya_lora_tensors(rank: int = 48) -> dict[str, tuple[str, tuple[int, ...]]]:
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    for module in _SD1_ATTENTION:
        tensors[f"{module}.alpha"] = ("F32", ())
        tensors[f"{module}.lora_down.weight"] = ("F32", (rank, 320))
        tensors[f"{module}.lora_up.weight"] = ("F32", (320, rank))
    return tensors


def safetensors_bytes(
    tensors: dict[str, tuple[str, tuple[int, ...]]],
    metadata: dict[str, str] | None = None,
    seed: int = 0,
) -> bytes:
    """Header (as the reference writer pads it) followed by seeded random tensor bytes, so two
    seeds give two different files of the same layout."""
    header: dict[str, object] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = math.prod(shape) * {"F32": 4, "F16": 2}[dtype]
        header[name] = {
            "dtype": dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + random.Random(seed).randbytes(offset)


@cache
def lora_file(seed: int = 0) -> bytes:
    data = safetensors_bytes(kohya_lora_tensors(), KOHYA_METADATA, seed)
    assert len(data) >= 1024 * 1024
    return data
