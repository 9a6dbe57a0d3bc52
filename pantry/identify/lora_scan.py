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
    # Keys beyond one per role (GLoRA's a1/a2/b1/b2 share "glora"), so counts stay per key.
    shared_roles: Counter = Counter()
    by_middle = _ROLES_BY_MIDDLE
    for key, info in tensors.items():
        # Inlined fast path of _split for the common endings ("<module>.alpha",
        # "<module>.lora_down.weight"): this loop runs over every key of every LoRA.
        head, dot, last = key.rpartition(".")
        if last in by_middle:
            module, dot, middle = head.rpartition(".")
            role = by_middle[last].get(middle) if dot else None
            if role is None:
                if middle not in _THREE_SEGMENT_MIDDLES:
                    continue
                split = _split(key)
                if split is None:
                    continue
                module, role = split
        else:
            role = LORA_SUFFIX_ROLES.get(last)
            if role is None or not head:
                continue
            module = head
        parts = found.get(module)
        if parts is None:
            found[module] = {role: info}
            continue
        if role in parts:
            shared_roles[module] += 1
        parts[role] = info
    scan = LoraScan()
    modules = scan.modules
    adapter_keys = 0
    for module, parts in found.items():
        if LORA_WEIGHT_ROLES.isdisjoint(parts):
            continue  # e.g. a lone ".alpha" or ".diff" that is an ordinary parameter
        adapter_keys += len(parts)
        if module in shared_roles:
            adapter_keys += shared_roles[module]
        if "ia3" in parts:
            weight = tensors.get(module + ".weight")
            if weight is not None:
                parts["ia3_weight"] = weight
                adapter_keys += 1
        modules[module] = parts
    scan.adapter_keys = adapter_keys
    scan.other_keys = len(tensors) - adapter_keys
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


# {"weight": {"lora_down": "down", ...}, "bias": {...}}: two-segment endings by last segment.
_ROLES_BY_MIDDLE: dict[str, dict[str, str]] = {"weight": {}, "bias": {}}
for _ending, _role in LORA_SUFFIX_ROLES.items():
    _middle, _, _last = _ending.rpartition(".")
    if _last in _ROLES_BY_MIDDLE and "." not in _middle:
        _ROLES_BY_MIDDLE[_last][_middle] = _role

# Middle segments of three-segment endings ("lora_A.default.weight", "lora.down.weight").
_THREE_SEGMENT_MIDDLES = frozenset(
    {k.split(".")[1] for k in LORA_SUFFIX_ROLES if k.count(".") == 2}
    | {k.split(".")[0] for k in LORA_PROCESSOR_ROLES}
)
