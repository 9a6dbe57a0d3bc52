"""The plain values every reader returns: what a file's header says, never its weights."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

# Bytes per element for safetensors dtype names; pickle readers map torch dtypes onto these.
DTYPE_SIZES: dict[str, float] = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "F8_E8M0": 1,
    "F8_E4M3FNUZ": 1,
    "F8_E5M2FNUZ": 1,
    "F4": 0.5,
    "F6_E2M3": 0.75,
    "F6_E3M2": 0.75,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "C64": 8,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}

# GGML block-quantised tensor types (GGUF files): name -> (elements per block, bytes per block).
# A quantised tensor's rows are whole blocks. Sizes are ggml's (src/ggml-common.h static_asserts);
# GGUF's plain types (F32, F16, BF16, F64, I8..I64) share the names and sizes of DTYPE_SIZES.
GGML_QUANT_BLOCKS: dict[str, tuple[int, int]] = {
    "Q4_0": (32, 18),
    "Q4_1": (32, 20),
    "Q5_0": (32, 22),
    "Q5_1": (32, 24),
    "Q8_0": (32, 34),
    "Q8_1": (32, 36),
    "Q2_K": (256, 84),
    "Q3_K": (256, 110),
    "Q4_K": (256, 144),
    "Q5_K": (256, 176),
    "Q6_K": (256, 210),
    "Q8_K": (256, 292),
    "IQ2_XXS": (256, 66),
    "IQ2_XS": (256, 74),
    "IQ3_XXS": (256, 98),
    "IQ1_S": (256, 50),
    "IQ4_NL": (32, 18),
    "IQ3_S": (256, 110),
    "IQ2_S": (256, 82),
    "IQ4_XS": (256, 136),
    "IQ1_M": (256, 56),
    "TQ1_0": (256, 54),
    "TQ2_0": (256, 66),
    "MXFP4": (32, 17),
    "NVFP4": (64, 36),
    "Q1_0": (128, 18),
    "Q2_0": (64, 18),
}


@dataclass(frozen=True)
class TensorInfo:
    """Name-less description of one tensor: dtype name and shape (PyTorch order).

    ``dtype`` is a safetensors dtype name, or for GGUF files a GGML type name (``"Q4_K"``...).
    """

    dtype: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        block = GGML_QUANT_BLOCKS.get(self.dtype)
        if block is not None:
            return -(-self.numel // block[0]) * block[1]
        return math.ceil(self.numel * DTYPE_SIZES.get(self.dtype, 0))


@dataclass
class Header:
    """Everything a reader learnt about one model asset without loading its weights.

    ``format`` is ``"safetensors"``, ``"pickle"`` (legacy torch saves), ``"gguf"`` (llama.cpp /
    ComfyUI-GGUF quantised files; ``metadata`` holds their key-value pairs as text) or
    ``"diffusers"`` (a folder with ``model_index.json``; its per-component headers are in
    ``components`` and its parsed JSON configs in ``configs``, keyed by component folder name,
    with ``"model_index"`` for the index itself).
    """

    path: Path
    format: str
    file_size: int
    tensors: dict[str, TensorInfo] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    # safetensors: the u64 length N; tensor data starts at byte 8 + N.
    header_length: int = 0
    # pickle: every global the pickle imports ("module.name"), and those outside the allowlist.
    pickle_globals: list[str] = field(default_factory=list)
    unsafe_globals: list[str] = field(default_factory=list)
    # pickle: non-tensor top-level entries worth knowing (e.g. global_step, A1111 TI "name").
    extras: dict[str, object] = field(default_factory=dict)
    # diffusers folders
    components: dict[str, Header] = field(default_factory=dict)
    configs: dict[str, dict] = field(default_factory=dict)
    # problems that did not stop reading (e.g. one unreadable component of a folder)
    warnings: list[str] = field(default_factory=list)

    @property
    def is_unsafe(self) -> bool:
        return bool(self.unsafe_globals)

    @property
    def data_offset(self) -> int:
        return 8 + self.header_length if self.format == "safetensors" else 0
