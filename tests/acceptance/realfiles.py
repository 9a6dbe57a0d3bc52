"""Model files written the way real tools write them, for acceptance tests.

Independent of ``tests/fixtures``: small LoRAs and embeddings are written by the
``safetensors`` library itself (real data, kohya key names and ``ss_*`` metadata); large
layouts are written as a real header over a sparse (hole) data region.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

# A few SD1.5 UNet cross-attention modules as kohya names them (diffusers module paths with
# "_"); to_k and to_v read the 768-wide CLIP-L context, which is what makes the file sd1.
_SD1_ATTN = [
    ("down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k", 320, 768),
    ("down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v", 320, 768),
    ("down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_q", 320, 320),
    ("down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", 320, 320),
    ("up_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k", 1280, 768),
    ("mid_block_attentions_0_transformer_blocks_0_attn2_to_v", 1280, 768),
]


def kohya_sd1_lora(path: Path, rank: int = 4, seed: int = 0, metadata: dict | None = None) -> Path:
    """A kohya LoRA for SD1.5 with real random weights (each seed gives other bytes)."""
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, out_features, in_features in _SD1_ATTN:
        key = f"lora_unet_{name}"
        tensors[f"{key}.lora_down.weight"] = rng.standard_normal((rank, in_features), np.float32)
        tensors[f"{key}.lora_up.weight"] = np.zeros((out_features, rank), np.float16)
        tensors[f"{key}.alpha"] = np.array(rank / 2, np.float16)
    tensors = {k: v.astype(np.float16) for k, v in tensors.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)
    return path


def sparse_safetensors(path: Path, tensors: dict[str, tuple[str, tuple[int, ...]]]) -> Path:
    """A valid safetensors file whose data region is a hole: ``{name: (dtype, shape)}``."""
    sizes = {"F32": 4, "F16": 2, "BF16": 2}
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        nbytes = int(np.prod(shape, dtype=np.int64)) * sizes[dtype]
        header[name] = {
            "dtype": dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        f.truncate(8 + len(raw) + offset)
    return path
