"""PS3xx: do the assets agree on the look they were made for?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pantry.lint.context import LintContext
from pantry.lint.findings import Hit
from pantry.lint.registry import Family, Severity, rule
from pantry.lint.rules._common import found, label, usable_checkpoint
from pantry.lint.tables import LINEAGE_STYLE_SOURCE, STYLE_SOURCE_WORDS, WEAK_STYLE_SOURCES
from pantry.recipes.model import ResolvedRecipe


@rule(
    "PS301",
    "lora-style-mismatch",
    Family.STYLE,
    Severity.WARNING,
    "A LoRA's style (anime/photoreal) differs from the checkpoint's",
)
def lora_style_mismatch(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    An anime LoRA on a photoreal checkpoint (or the reverse) fights the model: faces drift to
    uncanny half-styles and the LoRA needs a weight so high it breaks the image. Both styles
    must be known, and at least one of them must rest on more than a guess: two file names
    that disagree are not reported, and a style inferred from lineage alone never is (Pony
    and Illustrious have photoreal fine-tunes). The message says where each claim came from
    (your tag, the file's metadata, its training tags, its file name or its lineage) so a
    wrong guess is easy to spot and override with `pantry tag`.

    Example:

        checkpoint = "realisticVisionV60"      # photoreal (file name)
        [[loras]]
        ref = "animeLineart_sd15"              # anime (training tags: 1girl, lineart, ...)
    """
    ckpt = usable_checkpoint(resolved)
    ckpt_style = _style(ckpt.asset) if ckpt else None
    if ckpt_style is None:
        return
    seen: set[int] = set()
    for res in found(resolved, "lora"):
        lora_style = _style(res.asset)
        if lora_style is None or res.asset.id in seen or lora_style.value == ckpt_style.value:
            continue
        seen.add(res.asset.id)
        if _both_guesses(lora_style, ckpt_style):
            continue
        yield Hit(
            f"{label(res)} is {_claim(lora_style)}, but {label(ckpt)} is {_claim(ckpt_style)}",
            [res, ckpt],
        )


def _style(asset: Any) -> Any | None:
    style = asset.identity.style
    return style if style is not None and style.value != "unknown" else None


def _both_guesses(a: Any, b: Any) -> bool:
    if LINEAGE_STYLE_SOURCE in (a.source, b.source):
        return True
    return a.source in WEAK_STYLE_SOURCES and b.source in WEAK_STYLE_SOURCES


def _claim(style: Any) -> str:
    source = STYLE_SOURCE_WORDS.get(style.source, style.source)
    # identify's details may restate the source ("training tags: 1girl (110), ...")
    detail = style.detail
    prefix = source.removeprefix("its ").removeprefix("your ") + ":"
    detail = detail.removeprefix(prefix).strip() if detail.startswith(prefix) else detail
    return f"{style.value} (by {source}: {detail})" if detail else f"{style.value} (by {source})"
