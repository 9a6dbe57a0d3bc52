"""What rules may know beyond the recipe: render precision and two costly look-ups.

Rules stay pure functions of (ResolvedRecipe, LintContext). The look-ups that touch files or the
tokenizer live here, behind plain callables, so tests pass stand-ins and a batch of recipes
shares one cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Precisions a GPU render may run in; fp16 is what consumer GPUs use.
DTYPES = ("fp16", "bf16", "fp32")

TokenCounter = Callable[[str], int]
CoverageProbe = Callable[[Any, Any], float | None]  # (lora Asset, checkpoint Asset) -> share


@dataclass
class LintContext:
    dtype: str = "fp16"
    count_tokens: TokenCounter | None = field(default_factory=lambda: _clip_token_counter())
    lora_coverage: CoverageProbe | None = field(default_factory=lambda: HeaderCoverage())


class HeaderCoverage:
    """Share of a LoRA's target modules that exist in a checkpoint, read from both headers.

    Module sets are cached per path: linting many recipes over the same checkpoint reads its
    header once.
    """

    def __init__(self) -> None:
        self._targets: dict[tuple[str, Path], frozenset[str] | None] = {}

    def __call__(self, lora: Any, checkpoint: Any) -> float | None:
        wanted = self._module_set("lora", lora.path)
        present = self._module_set("model", checkpoint.path)
        if not wanted or present is None:
            return None
        return len(wanted & present) / len(wanted)

    def _module_set(self, role: str, path: Path) -> frozenset[str] | None:
        key = (role, Path(path))
        if key not in self._targets:
            self._targets[key] = _read_targets(role, Path(path))
        return self._targets[key]


def _read_targets(role: str, path: Path) -> frozenset[str] | None:
    from pantry.errors import PantryError
    from pantry.formats import read_header

    try:
        from pantry.identify import coverage
    except ImportError:  # coverage tables not installed in this build: nothing to compare
        return None
    try:
        header = read_header(path)
    except (PantryError, OSError, NotImplementedError):
        return None  # an unreadable file is reported by its own rule
    targets = coverage.lora_targets(header) if role == "lora" else coverage.model_targets(header)
    return frozenset(targets)


def _clip_token_counter() -> TokenCounter | None:
    try:
        from pantry.recipes.tokens import count_tokens
    except ImportError:
        return None
    return count_tokens
