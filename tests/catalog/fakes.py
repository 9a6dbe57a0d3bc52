"""Stand-ins for pantry.formats.read_header and pantry.identify.identify.

Used only while the real ones raise NotImplementedError (they are written in parallel); the
conftest switches to the real functions as soon as they work.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from pantry.errors import HeaderError
from pantry.formats.header import Header, TensorInfo
from pantry.identify.identity import Identity


def fake_read_header(path) -> Header:
    path = Path(path)
    if path.is_dir():
        return Header(path=path, format="diffusers", file_size=0)
    data = path.read_bytes()[: 16 * 1024 * 1024]
    if len(data) < 8:
        raise HeaderError(path, "file is shorter than 8 bytes")
    (n,) = struct.unpack("<Q", data[:8])
    try:
        raw = json.loads(data[8 : 8 + n])
    except ValueError:
        raise HeaderError(path, "header is not valid JSON") from None
    meta = raw.pop("__metadata__", {})
    tensors = {k: TensorInfo(v["dtype"], tuple(v["shape"])) for k, v in raw.items()}
    return Header(path, "safetensors", path.stat().st_size, tensors, meta, header_length=n)


def fake_identify(header: Header, hashes=None) -> Identity:
    keys = list(header.tensors)
    sdxl = any(k.startswith(("conditioner.embedders.1", "lora_te2_")) for k in keys) or any(
        "lora_unet_input_blocks_4_1_transformer_blocks_1" in k for k in keys
    )
    identity = Identity(format=header.format, metadata={})
    if any(k.startswith(("lora_unet", "lora_te")) for k in keys):
        identity.kind = "lora"
    elif any(k.startswith("model.diffusion_model.") for k in keys):
        identity.kind = "checkpoint"
    elif any(k.startswith(("encoder.down", "decoder.up")) for k in keys):
        identity.kind = "vae"
    if identity.kind != "unknown" and identity.kind != "vae":
        identity.base = "sdxl" if sdxl else "sd1"
    if title := header.metadata.get("modelspec.title") or header.metadata.get("ss_output_name"):
        identity.metadata["title"] = title
    return identity
