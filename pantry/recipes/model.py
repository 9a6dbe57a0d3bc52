"""Recipe: what a user asks to render, as plain values. The TOML names are a user contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class LoraSpec:
    ref: str
    weight: float = 1.0
    from_prompt: bool = False  # True for <lora:NAME:W> tags found in the prompt
    # <lora:NAME:TE:UNET>: ``weight`` is the text-encoder weight; None means the same for UNet
    unet_weight: float | None = None


@dataclass
class Recipe:
    checkpoint: str
    prompt: str = ""
    negative_prompt: str = ""
    name: str | None = None
    vae: str | None = None  # None: the checkpoint's own VAE
    clip_skip: int | None = None  # A1111 meaning: 1 = last layer
    width: int = 512
    height: int = 512
    steps: int = 20
    cfg_scale: float = 7.0
    sampler: str = "Euler a"  # A1111 sampler names
    scheduler: str | None = None  # karras, exponential, ...
    seed: int = -1
    loras: list[LoraSpec] = field(default_factory=list)
    lint_ignore: list[str] = field(default_factory=list)
    # where it came from: file path and the line each top-level key was written on
    source: Path | None = None
    lines: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # infotext keys with no recipe field

    def all_loras(self) -> list[LoraSpec]:
        """The [[loras]] table followed by the prompt's <lora:...> / <lyco:...> tags."""
        from pantry.recipes.prompt import prompt_loras  # prompt imports this module

        return [*self.loras, *prompt_loras(self.prompt)]


@dataclass
class Resolution:
    """One REF of a recipe looked up in the catalog."""

    slot: str  # checkpoint | vae | lora | embedding
    ref: str
    asset: Any | None = None  # pantry.catalog.asset.Asset when found
    candidates: list[Any] = field(default_factory=list)  # Assets, when ambiguous
    problem: str | None = None  # not_found | ambiguous | not_pulled | None
    detail: str = ""  # one line for the user
    lora: LoraSpec | None = None
    line: int | None = None  # recipe line that named it


@dataclass
class ResolvedRecipe:
    recipe: Recipe
    checkpoint: Resolution
    vae: Resolution | None = None
    loras: list[Resolution] = field(default_factory=list)
    embeddings: list[Resolution] = field(default_factory=list)
    controlnets: list[Resolution] = field(default_factory=list)  # none yet: recipes name none

    def all(self) -> list[Resolution]:
        items = [self.checkpoint]
        if self.vae:
            items.append(self.vae)
        return items + self.loras + self.embeddings + self.controlnets
