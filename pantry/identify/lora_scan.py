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
    roles: Counter = field(default_factory=Counter)  # role -> modules having it

    @property
    def share(self) -> float:
        """Fraction of the file's tensors that are adapter weights."""
        total = self.adapter_keys + self.other_keys
        return self.adapter_keys / total if total else 0.0


def scan_lora(tensors: dict[str, TensorInfo]) -> LoraScan:
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
        scan.roles.update(parts.keys())
    scan.other_keys = len(tensors) - scan.adapter_keys
    return scan


def _split(key: str) -> tuple[str, str] | None:
    """(module name, role) when ``key`` ends like an adapter weight."""
    parts = key.rsplit(".", 3)
    for n in (3, 2, 1):
        if len(parts) <= n:
            continue
        role = LORA_SUFFIX_ROLES.get(".".join(parts[-n:]))
        if role is not None:
            return ".".join(parts[:-n]), role
    # "<proj>_lora[N].down.weight": old diffusers attention processors and XLabs Flux LoRAs
    if len(parts) >= 3 and "lora" in parts[-3]:
        role = LORA_PROCESSOR_ROLES.get(parts[-2] + "." + parts[-1])
        if role is not None:
            return ".".join(parts[:-2]), role
    return None
