"""Precision and parameter count from dtypes and shapes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from math import prod
from operator import attrgetter

from pantry.formats.header import GGML_QUANT_BLOCKS, TensorInfo
from pantry.identify.taxonomy import Precision

# GGUF's block-quantised types name their precision ("Q4_K" -> "q4_k").
GGML_PRECISION: dict[str, Precision] = {name: Precision(name.lower()) for name in GGML_QUANT_BLOCKS}
# dtype -> precision; integer buffers (position_ids, step counters) are not weights. GGUF's
# plain types (F32, F16, BF16, I8) share safetensors' names.
DTYPE_PRECISION: dict[str, Precision] = {
    "F32": Precision.FP32,
    "F16": Precision.FP16,
    "BF16": Precision.BF16,
    "F8_E4M3": Precision.FP8,
    "F8_E5M2": Precision.FP8,
    "F8_E8M0": Precision.FP8,
    "F4": Precision.FP4,
    "F6_E2M3": Precision.FP4,
    "F6_E3M2": Precision.FP4,
    "I8": Precision.INT8,
    "U8": Precision.INT8,
    **GGML_PRECISION,
}
# One dtype must hold this share of the weights for the file to be called that precision.
DOMINANT_SHARE = 0.9
_GGML_PRECISIONS = frozenset(GGML_PRECISION.values())
_DTYPE_AND_SHAPE = attrgetter("dtype", "shape")


def weight_stats(tensors: Iterable[TensorInfo]) -> tuple[str, int]:
    """(precision, parameter count) over the weight tensors."""
    by_precision: Counter = Counter()
    lookup = DTYPE_PRECISION.get
    # Thousands of tensors share a few hundred (dtype, shape) pairs: count the pairs (a C loop),
    # then weigh each pair once.
    for (dtype, shape), count in Counter(map(_DTYPE_AND_SHAPE, tensors)).items():
        precision = lookup(dtype)
        if precision is not None:
            by_precision[precision] += prod(shape) * count
    params = sum(by_precision.values())
    if not params:
        return Precision.UNKNOWN.value, 0
    quantised = [(n, p) for p, n in by_precision.items() if p in _GGML_PRECISIONS]
    if quantised and 2 * sum(n for n, _ in quantised) > params:
        # GGUF quantisers mix types by design (Q4_K_M puts some layers in Q6_K, keeps norms
        # and small layers in F32/F16): the file is its main quantisation, not "mixed".
        return max(quantised)[1].value, params
    precision, count = by_precision.most_common(1)[0]
    if count < DOMINANT_SHARE * params:
        return Precision.MIXED.value, params
    return precision.value, params
