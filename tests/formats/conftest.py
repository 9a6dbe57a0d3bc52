"""Builders for model files written the way real tools write them, plus hand-made broken ones."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file


def write_safetensors_bytes(path: Path, header: bytes, data: bytes = b"", length=None) -> Path:
    """A file with an arbitrary header (bytes) and data region; ``length`` overrides N."""
    n = len(header) if length is None else length
    path.write_bytes(struct.pack("<Q", n) + header + data)
    return path


def write_safetensors_json(path: Path, header: object, data_size: int) -> Path:
    """A file whose header is ``header`` as JSON and whose data region is ``data_size`` zeros."""
    return write_safetensors_bytes(path, json.dumps(header).encode(), bytes(data_size))


@pytest.fixture
def lora_file(tmp_path: Path) -> Path:
    """A small kohya-style LoRA written by the real safetensors library."""
    path = tmp_path / "style.safetensors"
    save_file(
        {
            "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": np.zeros(
                (4, 320), dtype=np.float16
            ),
            "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight": np.zeros(
                (320, 4), dtype=np.float16
            ),
            "lora_unet_down_blocks_0_attentions_0_proj_in.alpha": np.array(4.0, dtype=np.float32),
            "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight": np.zeros(
                (4, 768), dtype=np.float32
            ),
            "empty": np.zeros((0, 3), dtype=np.int64),
        },
        str(path),
        metadata={"ss_network_dim": "4", "ss_base_model_version": "sd_v1"},
    )
    return path
