"""PT4xx: are the sampling settings sane for this checkpoint?"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from pantry.lint.context import LintContext
from pantry.lint.findings import Hit
from pantry.lint.registry import Family, Severity, rule
from pantry.lint.rules._common import found, label, metadata_int, usable_checkpoint
from pantry.lint.tables import (
    CFG_RANGE,
    CFG_RANGE_DISTILLED,
    CLIP_SKIP_2_LINEAGES,
    CLIP_SKIP_MAX,
    CLIP_SKIP_METADATA_KEYS,
    CLIP_SKIP_NO_EFFECT,
    DEFAULT_SIZE_MULTIPLE,
    DISTILLED_EDITIONS,
    FEW_STEP_EDITIONS,
    FEW_STEP_SAMPLERS,
    FEW_STEP_VARIANTS,
    LORA_WEIGHT_RANGE,
    NATIVE_SIDE,
    SD2_NATIVE_SIDE,
    SIZE_MULTIPLE,
    SIZE_RATIO_RANGE,
    STEPS_RANGE,
    STEPS_RANGE_DISTILLED,
)
from pantry.recipes.model import ResolvedRecipe
from pantry.recipes.samplers import A1111_SAMPLERS, SCHEDULE_TYPES, split_sampler


@rule(
    "PT401",
    "clip-skip-out-of-range",
    Family.SETTINGS,
    Severity.ERROR,
    "Clip skip is outside the text encoder's layer count",
)
def clip_skip_out_of_range(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Recipes use A1111's meaning: clip skip N takes the Nth layer from the end, so 1 is the
    last layer (no skip) and N cannot exceed the layer count: 12 for SD1's CLIP-L, 24 for
    SD2's OpenCLIP-H. 0 and negative values mean nothing (diffusers counts from 0: its
    `clip_skip=1` is A1111's 2; pantry converts).

    Example:

        checkpoint = "realisticVisionV60"
        clip_skip = 0    # use 1 (last layer) or 2
    """
    clip_skip = resolved.recipe.clip_skip
    if clip_skip is None:
        return
    ckpt = usable_checkpoint(resolved)
    limit = CLIP_SKIP_MAX.get(ckpt.asset.base) if ckpt else None
    if clip_skip < 1:
        yield Hit(f"clip skip {clip_skip} is below 1 (1 = last layer)", field="clip_skip")
    elif limit is not None and clip_skip > limit:
        yield Hit(
            f"clip skip {clip_skip} is past the {limit} layers of the {ckpt.asset.base} "
            f"text encoder of {label(ckpt)}",
            [ckpt],
            field="clip_skip",
        )


@rule(
    "PT402",
    "clip-skip-no-effect",
    Family.SETTINGS,
    Severity.INFO,
    "Clip skip is set for a model where A1111's setting has no effect",
)
def clip_skip_no_effect(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    SDXL already conditions on the text encoder's penultimate layer; A1111's clip-skip slider
    does nothing there (Forge hides it), and SD3/Flux rely on T5. Some model pages still ask
    for "clip skip 2" (Pony): in ComfyUI or diffusers it does skip a further layer, so the same
    recipe renders differently between tools.

    Example:

        checkpoint = "sdxl_base_1.0"
        clip_skip = 2
    """
    clip_skip = resolved.recipe.clip_skip
    ckpt = usable_checkpoint(resolved)
    if ckpt is None or clip_skip is None or clip_skip == 1:
        return
    if ckpt.asset.base in CLIP_SKIP_NO_EFFECT:
        yield Hit(
            f"clip skip {clip_skip} has no effect in A1111 on {label(ckpt)} "
            f"({ckpt.asset.base}); other tools apply it, so results differ between tools",
            [ckpt],
            field="clip_skip",
        )


@rule(
    "PT403",
    "clip-skip-2-expected",
    Family.SETTINGS,
    Severity.WARNING,
    "Clip skip 1 with a model or LoRA made for clip skip 2",
)
def clip_skip_2_expected(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    NovelAI-derived anime checkpoints were trained on the penultimate text-encoder layer
    (clip skip 2) and glitch at 1; Pony and Illustrious authors ask for 2 as well. LoRAs record
    the value they were trained with (`ss_clip_skip`). The recipe leaves clip skip at 1 (or
    unset, which means 1).

    Example:

        checkpoint = "animeDream_v3"   # NovelAI-derived
        # clip_skip unset -> 1; set clip_skip = 2
    """
    if resolved.recipe.clip_skip not in (None, 1):
        return
    ckpt = usable_checkpoint(resolved)
    for res in found(resolved):
        if res.slot not in ("checkpoint", "lora") or (res.slot == "checkpoint" and not ckpt):
            continue
        reason = _clip_skip_2_reason(res.asset)
        if reason:
            yield Hit(
                f"{label(res)} {reason}, but the recipe uses clip skip 1",
                [res],
                field="clip_skip",
            )


def _clip_skip_2_reason(asset: Any) -> str | None:
    identity = asset.identity
    trained = metadata_int(identity.metadata, CLIP_SKIP_METADATA_KEYS)
    if trained == 2:
        return "was made for clip skip 2 (metadata)"
    if identity.kind != "lora" and (identity.lineage or "").lower() in CLIP_SKIP_2_LINEAGES:
        return f"is {identity.lineage}-lineage, made for clip skip 2"
    return None


@rule(
    "PT404",
    "size-not-multiple",
    Family.SETTINGS,
    Severity.ERROR,
    "Width or height is not a multiple of 8 (16 for Flux)",
)
def size_not_multiple(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The VAE downsamples by 8, so the latent is width/8 x height/8: diffusers refuses sizes that
    are not multiples of 8, and Flux packs 2x2 latent patches, so it needs multiples of 16.

    Example:

        width = 500    # use 496 or 504 (512 is native for SD1)
    """
    ckpt = usable_checkpoint(resolved)
    multiple = SIZE_MULTIPLE.get(ckpt.asset.base, DEFAULT_SIZE_MULTIPLE) if ckpt else 8
    recipe = resolved.recipe
    for field_name, value in (("width", recipe.width), ("height", recipe.height)):
        if value % multiple:
            yield Hit(f"{field_name} {value} is not a multiple of {multiple}", field=field_name)


@rule(
    "PT405",
    "size-far-from-native",
    Family.SETTINGS,
    Severity.WARNING,
    "The image size is far from the checkpoint's training resolution",
)
def size_far_from_native(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Models render best near the pixel count they were trained at: 512x512 for SD1, 768x768
    for SD2-v (512 for SD2-base), 1024x1024 for SDXL, SD3 and Flux. Much smaller and SDXL falls
    apart; much larger and SD1 duplicates subjects (two heads, repeated bodies). Aspect ratios
    are free; the pixel count should stay within 0.5-2.5x the native one.

    Example:

        checkpoint = "sdxl_base_1.0"
        width = 512
        height = 512    # SDXL wants about 1024x1024 (or 832x1216, ...)
    """
    ckpt = usable_checkpoint(resolved)
    side = _native_side(ckpt.asset) if ckpt else None
    if side is None:
        return
    recipe = resolved.recipe
    ratio = recipe.width * recipe.height / (side * side)
    low, high = SIZE_RATIO_RANGE
    if not low <= ratio <= high:
        yield Hit(
            f"{recipe.width}x{recipe.height} is {ratio:.2g}x the pixels of {side}x{side}, "
            f"the native size of {label(ckpt)}",
            [ckpt],
            field="width",
        )


def _native_side(asset: Any) -> int | None:
    identity = asset.identity
    if identity.base == "sd2":
        if identity.edition in SD2_NATIVE_SIDE:
            return SD2_NATIVE_SIDE[identity.edition]
        v_pred = "v_prediction" in {identity.variant, *identity.variants}
        return 768 if v_pred else 512
    return NATIVE_SIDE.get(identity.base)


@rule(
    "PT406",
    "steps-out-of-range",
    Family.SETTINGS,
    Severity.WARNING,
    "The step count is outside the sane range for this model",
)
def steps_out_of_range(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Ordinary models need about 20-40 steps: under 10 leaves noise, over 100 costs time and
    changes nothing. Few-step models (Flux schnell, SDXL Turbo, LCM sampling) are made for 1-8
    steps and over-bake with many.

    Example:

        steps = 4     # fine for Flux schnell, noise for realisticVisionV60
    """
    ckpt = usable_checkpoint(resolved)
    recipe = resolved.recipe
    few_step = _few_step(ckpt.asset if ckpt else None, recipe.sampler)
    low, high = STEPS_RANGE_DISTILLED if few_step else STEPS_RANGE
    if not low <= recipe.steps <= high:
        kind = "a few-step model" if few_step else "this model"
        yield Hit(
            f"{recipe.steps} steps is outside {low}-{high} for {kind}",
            [ckpt] if ckpt else [],
            field="steps",
        )


def _few_step(asset: Any | None, sampler: str) -> bool:
    if sampler.strip().lower() in FEW_STEP_SAMPLERS:
        return True
    if asset is None:
        return False
    identity = asset.identity
    variants = {identity.variant, *identity.variants}
    return identity.edition in FEW_STEP_EDITIONS or bool(variants & FEW_STEP_VARIANTS)


@rule(
    "PT407",
    "cfg-out-of-range",
    Family.SETTINGS,
    Severity.WARNING,
    "The CFG scale is outside the sane range for this model",
)
def cfg_out_of_range(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Classifier-free guidance around 4-9 suits ordinary models; below 2 ignores the prompt,
    above 15 burns colours. Guidance-distilled models are the opposite: Flux schnell and
    Turbo/LCM want CFG 1, and Flux dev takes its guidance (about 3.5) through a separate
    distilled-guidance input with CFG 1. CFG near 1 is right there, not wrong.

    Example:

        checkpoint = "realisticVisionV60"
        cfg_scale = 1.0    # use about 7
    """
    ckpt = usable_checkpoint(resolved)
    if ckpt is None:
        return
    recipe = resolved.recipe
    distilled = _cfg_distilled(ckpt.asset, recipe.sampler)
    low, high = CFG_RANGE_DISTILLED if distilled else CFG_RANGE
    if not low <= recipe.cfg_scale <= high:
        why = "a guidance-distilled model" if distilled else label(ckpt)
        yield Hit(
            f"CFG {recipe.cfg_scale:g} is outside {low:g}-{high:g} for {why}",
            [ckpt],
            field="cfg_scale",
        )


def _cfg_distilled(asset: Any, sampler: str) -> bool:
    identity = asset.identity
    if identity.base == "flux" and (identity.edition in DISTILLED_EDITIONS or not identity.edition):
        return True
    return _few_step(asset, sampler)


@rule(
    "PT408",
    "unknown-sampler",
    Family.SETTINGS,
    Severity.ERROR,
    "The sampler is not an A1111 sampler name",
)
def unknown_sampler(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Recipes name samplers as AUTOMATIC1111 and Forge do (and as infotext records them):
    "Euler a", "DPM++ 2M", "DPM++ 2M SDE", "UniPC", ... The older form with the schedule type
    appended ("DPM++ 2M Karras") and ComfyUI's names ("dpmpp_2m") are accepted and mapped.
    The full list is A1111_SAMPLERS in pantry/recipes/samplers.py.

    Example:

        sampler = "DPM++ 2M Karass"    # did you mean "DPM++ 2M Karras"?
    """
    sampler = resolved.recipe.sampler
    if split_sampler(sampler)[0] not in A1111_SAMPLERS:
        yield Hit(
            f"unknown sampler {sampler!r}{_suggest(sampler, _sampler_spellings())}",
            field="sampler",
        )


def _sampler_spellings() -> list[str]:
    return [*A1111_SAMPLERS, *(f"{s} Karras" for s in A1111_SAMPLERS)]


@rule(
    "PT409",
    "unknown-scheduler",
    Family.SETTINGS,
    Severity.ERROR,
    "The scheduler is not an A1111 schedule type",
)
def unknown_scheduler(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The schedule type (the spacing of noise levels) as A1111/Forge name it: automatic,
    uniform, karras, exponential, polyexponential, sgm_uniform, kl_optimal, align_your_steps,
    simple, normal, ddim, beta, turbo. Their labels ("Karras", "SGM Uniform") are accepted too.

    Example:

        scheduler = "karass"    # did you mean "karras"?
    """
    scheduler = resolved.recipe.scheduler
    if scheduler is None:
        return
    names = ["automatic", *(n for n in SCHEDULE_TYPES.values() if n)]
    known = {n.lower() for n in names} | {label.lower() for label in SCHEDULE_TYPES}
    if scheduler.strip().lower() not in known:
        yield Hit(f"unknown scheduler {scheduler!r}{_suggest(scheduler, names)}", field="scheduler")


def _suggest(text: str, choices: Any) -> str:
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(text.strip().lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""


@rule(
    "PT410",
    "lora-weight-out-of-range",
    Family.SETTINGS,
    Severity.WARNING,
    "A LoRA weight is outside -2..2",
)
def lora_weight_out_of_range(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    LoRA weights scale the patch added to the model. Most LoRAs are made for 0.5-1; detail
    sliders go negative. Past 2 in either direction the patch dominates the model and the
    image breaks into noise or saturated colour.

    Example:

        [[loras]]
        ref = "add_detail"
        weight = 5.0     # probably meant 0.5
    """
    low, high = LORA_WEIGHT_RANGE
    for res in resolved.loras:
        weight = res.lora.weight if res.lora is not None else 1.0
        if not low <= weight <= high:
            yield Hit(f"{label(res)} weight {weight:g} is outside {low:g}..{high:g}", [res])


@rule(
    "PT411",
    "duplicate-lora",
    Family.SETTINGS,
    Severity.WARNING,
    "The same LoRA is applied more than once",
)
def duplicate_lora(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    A LoRA listed twice (in the recipe's table and as a `<lora:...>` tag in the prompt, or
    twice in either) is applied twice: the weights add up, which is rarely what was meant.

    Example:

        prompt = "portrait <lora:add_detail:0.5>"
        [[loras]]
        ref = "add_detail"
        weight = 0.8      # total 1.3
    """
    groups: dict[Any, list] = {}
    for res in resolved.loras:
        key = ("id", res.asset.id) if res.asset is not None else ("ref", res.ref.lower())
        groups.setdefault(key, []).append(res)
    for group in groups.values():
        if len(group) > 1:
            weights = " + ".join(f"{r.lora.weight:g}" if r.lora else "1" for r in group)
            yield Hit(f"{label(group[0])} is applied {len(group)} times (weights {weights})", group)
