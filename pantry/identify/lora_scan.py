"""One pass over a header's tensor names that groups adapter weights by the module they patch.

Every key is split at most three times and its ending looked up in
``signatures.LORA_SUFFIX_ROLES``: a dictionary probe per key, no regular expressions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pantry.formats.header import TensorInfo
from pantry.identify.signatures import (
    LORA_PROCESSOR_ROLES,
    LORA_SUFFIX_ROLES,
    LORA_WEIGHT_ROLES,
)


@dataclass
class LoraScan:
    """Adapter modules found in a header: {module name: {role: tensor}}, and what is left."""

    modules: dict[str, dict[str, TensorInfo]] = field(default_factory=dict)
    adapter_keys: int = 0  # tensors that belong to a LoRA module
    other_keys: int = 0  # tensors that do not

    @property
    def share(self) -> float:
        """Fraction of the file's tensors that are adapter weights."""
        total = self.adapter_keys + self.other_keys
        return self.adapter_keys / total if total else 0.0


# Keys sampled (evenly spaced) before a full pass: a file whose sample holds no adapter key
# cannot be mostly adapter weights, so checkpoints skip the per-key pass.
PRECHECK_SAMPLE = 96


def scan_lora(tensors: dict[str, TensorInfo]) -> LoraScan:
    if len(tensors) > 4 * PRECHECK_SAMPLE and not _sample_has_adapter_key(tensors):
        return LoraScan(other_keys=len(tensors))
    found: dict[str, dict[str, TensorInfo]] = {}
    key_counts: Counter = Counter()  # several keys may share a role (GLoRA's a1/a2/b1/b2)
    for key, info in tensors.items():
        split = _split(key)
        if split is None:
            continue
        module, role = split
        found.setdefault(module, {})[role] = info
        key_counts[module] += 1
    scan = LoraScan()
    for module, parts in found.items():
        if LORA_WEIGHT_ROLES.isdisjoint(parts):
            continue  # e.g. a lone ".alpha" or ".diff" that is an ordinary parameter
        if "ia3" in parts:
            weight = tensors.get(module + ".weight")
            if weight is not None:
                parts["ia3_weight"] = weight
                key_counts[module] += 1
        scan.modules[module] = parts
        scan.adapter_keys += key_counts[module]
    scan.other_keys = len(tensors) - scan.adapter_keys
    return scan


def _sample_has_adapter_key(tensors: dict[str, TensorInfo]) -> bool:
    keys = list(tensors)
    step = len(keys) // PRECHECK_SAMPLE
    return any(_split(keys[i]) is not None for i in range(0, len(keys), step))


def _split(key: str) -> tuple[str, str] | None:
    """(module name, role) when ``key`` ends like an adapter weight.

    Hot path (every key of every file): two ``rfind`` calls and one or two dict probes.
    """
    dot = key.rfind(".")
    last = key[dot + 1 :]
    if last != "weight" and last != "bias":
        role = LORA_SUFFIX_ROLES.get(last)
        return (key[:dot], role) if role is not None and dot > 0 else None
    dot2 = key.rfind(".", 0, dot)
    if dot2 < 0:
        return None
    role = LORA_SUFFIX_ROLES.get(key[dot2 + 1 :])
    if role is not None:
        return key[:dot2], role
    middle = key[dot2 + 1 : dot]
    if middle in _THREE_SEGMENT_MIDDLES:
        dot3 = key.rfind(".", 0, dot2)
        if dot3 > 0:
            role = LORA_SUFFIX_ROLES.get(key[dot3 + 1 :])
            if role is not None:
                return key[:dot3], role
            # "<proj>_lora[N].down.weight": old diffusers attention processors, XLabs Flux
            if "lora" in key[dot3 + 1 : dot2]:
                role = LORA_PROCESSOR_ROLES.get(key[dot2 + 1 :])
                if role is not None:
                    return key[:dot2], role
    return None


# Middle segments of three-segment endings ("lora_A.default.weight", "lora.down.weight").
_THREE_SEGMENT_MIDDLES = frozenset(
    {k.split(".")[1] for k in LORA_SUFFIX_ROLES if k.count(".") == 2}
    | {k.split(".")[0] for k in LORA_PROCESSOR_ROLES}
)
