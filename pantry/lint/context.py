"""What rules may know beyond the recipe: render precision and a few costly look-ups.

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
ChunkCounter = Callable[[str], list[int]]  # tokens in each A1111 75-token chunk
CoverageProbe = Callable[[Any, Any], float | None]  # (lora Asset, checkpoint Asset) -> share


@dataclass
class LintContext:
    dtype: str = "fp16"
    count_tokens: TokenCounter | None = field(default_factory=lambda: _tokens("count_tokens"))
    count_chunks: ChunkCounter | None = field(default_factory=lambda: _tokens("chunks"))
    lora_coverage: CoverageProbe | None = field(default_factory=lambda: HeaderCoverage())


class HeaderCache:
    """Headers read once per path; an unreadable file reads as None."""

    def __init__(self) -> None:
        self._headers: dict[Path, Any] = {}

    def get(self, path: Path) -> Any | None:
        if path not in self._headers:
            self._headers[path] = _read_header(path)
        return self._headers[path]


class HeaderCoverage:
    """Share of a LoRA's target modules present (with fitting widths) in a checkpoint.

    Both headers are read once per path and each (LoRA, checkpoint) pair is compared once:
    linting many recipes over the same checkpoint reads its header a single time.
    """

    def __init__(self) -> None:
        self.headers = HeaderCache()
        self._shares: dict[tuple[Path, Path], float | None] = {}

    def __call__(self, lora: Any, checkpoint: Any) -> float | None:
        key = (Path(lora.path), Path(checkpoint.path))
        if key not in self._shares:
            self._shares[key] = self._share(*key)
        return self._shares[key]

    def _share(self, lora_path: Path, checkpoint_path: Path) -> float | None:
        from pantry.identify.coverage import coverage

        lora, model = self.headers.get(lora_path), self.headers.get(checkpoint_path)
        if lora is None or model is None:
            return None
        result = coverage(lora, model)
        return result.ratio if result.targets else None


def _read_header(path: Path) -> Any | None:
    from pantry.errors import PantryError
    from pantry.formats import read_header

    try:
        return read_header(path)
    except (PantryError, OSError, NotImplementedError):
        return None  # an unreadable file is reported by its own rule


def _tokens(function: str) -> Callable | None:
    # The tokenizer module loads its vocabulary lazily; a build without it skips PP501.
    try:
        from pantry.recipes import tokens
    except ImportError:
        return None
    return getattr(tokens, function)
