"""Write header-faithful safetensors files: a real header, then a sparse data region.

Hand-written rather than through the safetensors library because that library needs the
tensor bytes in memory; here a multi-gigabyte checkpoint costs only its header on disk.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pantry.formats.header import DTYPE_SIZES

Layout = dict[str, tuple[str, tuple[int, ...]]]


def safetensors_header_bytes(
    tensors: Layout, metadata: dict[str, str] | None = None
) -> tuple[bytes, int]:
    """The header JSON (space-padded to 8 bytes, as the reference writer does) and data size."""
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = math.ceil(math.prod(shape) * DTYPE_SIZES[dtype])
        offsets = [offset, offset + size]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": offsets}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return raw, offset


def write_sparse_safetensors(
    path: Path, tensors: Layout, metadata: dict[str, str] | None = None
) -> Path:
    """Write ``tensors``' header and truncate the file to its full size (no data on disk)."""
    raw, data_size = safetensors_header_bytes(tensors, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(len(raw).to_bytes(8, "little"))
        handle.write(raw)
        handle.truncate(8 + len(raw) + data_size)
    return path
