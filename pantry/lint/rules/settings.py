"""PT4xx: are the sampling settings sane for this checkpoint?"""

from __future__ import annotations

import difflib
import re
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
    CLIP_SKIP_MATTERS,
    CLIP_SKIP_MAX,
    CLIP_SKIP_METADATA_KEYS,
    CLIP_SKIP_NOTES,
    DEFAULT_SIZE_MULTIPLE,
    DISTILLED_EDITIONS,
    FEW_STEP_EDITIONS,
    FEW_STEP_SAMPLERS,
    FEW_STEP_VARIANTS,
    FEW_STEP_WORD_PAIRS,
    FEW_STEP_WORDS,
    LORA_WEIGHT_RANGE,
    NATIVE_SIDE,
    SD2_NATIVE_SIDE,
    SIZE_MULTIPLE_REQUIRED,
    SIZE_MULTIPLE_ROUNDED,
    SIZE_RATIO_RANGE,
    SIZE_RATIO_RANGE_BY_BASE,
    STEPS_RANGE,
    STEPS_RANGE_BY_EDITION,
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
    last layer (no skip) and N cannot exceed the layer count: 12 for SD1's CLIP-L; 23 for SD2,
    whose OpenCLIP-H was used from its penultimate layer (converted text encoders keep 23 of
    its 24 layers); 11 for SDXL, which already starts at CLIP-L's penultimate layer. 0 and
    negative values mean nothing (diffusers counts from 0: its `clip_skip=1` is A1111's 2;
    pantry converts).

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
    Clip skip was made for SD1's CLIP-L. SD2 and SDXL already condition on the penultimate
    layer: A1111's clip-skip setting does nothing there (Forge hides it), while diffusers,
    ComfyUI and pantry skip a further layer, so the same recipe renders differently between
    tools. Some model pages still ask for "clip skip 2" (Pony): in A1111 it is a no-op. SD3
    leans on T5, and Flux reads only CLIP's pooled output, so clip skip means nothing there.

    Example:

        checkpoint = "sdxl_base_1.0"
        clip_skip = 2
    """
    clip_skip = resolved.recipe.clip_skip
    ckpt = usable_checkpoint(resolved)
    if ckpt is None or clip_skip is None or clip_skip == 1:
        return
    note = CLIP_SKIP_NOTES.get(ckpt.asset.base)
    if note:
        yield Hit(f"clip skip {clip_skip} on {label(ckpt)}: {note}", [ckpt], field="clip_skip")


@rule(
    "PT403",
    "clip-skip-2-expected",
    Family.SETTINGS,
    Severity.WARNING,
    "Clip skip 1 with a model or LoRA made for clip skip 2",
)
def clip_skip_2_expected(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    NovelAI-derived anime checkpoints (SD1) were trained on the penultimate text-encoder
    layer (clip skip 2) and glitch at 1. pantry asks for 2 when the checkpoint's metadata
    records clip skip 2 or its lineage is NovelAI; the recipe leaves clip skip at 1 (or unset,
    which means 1). Not asked on SDXL (Pony, Illustrious): every tool already uses the
    penultimate layer there. A LoRA trained at another clip skip is PT412.

    Example:

        checkpoint = "animeDream_v3"   # NovelAI-derived
        # clip_skip unset -> 1; set clip_skip = 2
    """
    if resolved.recipe.clip_skip not in (None, 1):
        return
    ckpt = usable_checkpoint(resolved)
    if ckpt is None or ckpt.asset.base not in CLIP_SKIP_MATTERS:
        return
    reason = _clip_skip_2_reason(ckpt.asset)
    if reason:
        yield Hit(
            f"{label(ckpt)} {reason}, but the recipe uses clip skip 1", [ckpt], field="clip_skip"
        )


def _clip_skip_2_reason(asset: Any) -> str | None:
    identity = asset.identity
    if _trained_clip_skip(asset) == 2:
        return "was made for clip skip 2 (its metadata says so)"
    if (identity.lineage or "").lower() in CLIP_SKIP_2_LINEAGES:
        return f"is {identity.lineage}-lineage, made for clip skip 2"
    return None


def _trained_clip_skip(asset: Any) -> int | None:
    value = metadata_int(asset.identity.metadata, CLIP_SKIP_METADATA_KEYS)
    # ModelSpec's encoder_layer may count from the end with a minus sign (-2 = clip skip 2).
    return abs(value) if value else None


@rule(
    "PT412",
    "lora-clip-skip-differs",
    Family.SETTINGS,
    Severity.INFO,
    "A LoRA was trained at another clip skip than the recipe uses",
)
def lora_clip_skip_differs(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    kohya records the clip skip a LoRA was trained with (`ss_clip_skip`); LoRAs trained on
    NovelAI-derived models usually say 2. Used at another clip skip the LoRA still works, a
    little weaker or off-style: worth knowing, rarely worth changing the whole recipe for.
    Only checked on SD1 and SD2 (on SDXL the setting is not the same thing, see PT402).

    Example:

        checkpoint = "realisticVisionV60"
        [[loras]]
        ref = "animeLineart_sd15"    # ss_clip_skip 2, recipe at clip skip 1
    """
    ckpt = usable_checkpoint(resolved)
    if ckpt is None or ckpt.asset.base not in CLIP_SKIP_MATTERS:
        return
    used = resolved.recipe.clip_skip or 1
    for res in _distinct_loras(resolved):
        trained = _trained_clip_skip(res.asset)
        if trained is not None and trained != used:
            yield Hit(
                f"{label(res)} was trained at clip skip {trained} (its metadata), the recipe "
                f"uses {used}",
                [res],
            )


def _distinct_loras(resolved: ResolvedRecipe) -> list[Any]:
    """Found LoRAs, each asset once (a table entry and a prompt tag may name the same file)."""
    seen: dict[Any, Any] = {}
    for res in found(resolved, "lora"):
        seen.setdefault(res.asset.id, res)
    return list(seen.values())


@rule(
    "PT404",
    "size-not-multiple",
    Family.SETTINGS,
    Severity.ERROR,
    "Width or height is not a multiple of 8 (16 for SD3)",
)
def size_not_multiple(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The VAE downsamples by 8, so the latent is width/8 x height/8: diffusers refuses sizes that
    are not multiples of 8. SD3, AuraFlow and Lumina 2 patchify 2x2 latents and refuse sizes
    that are not multiples of 16. (Flux rounds them instead: PT413.)

    Example:

        width = 500    # use 496 or 504 (512 is native for SD1)
    """
    ckpt = usable_checkpoint(resolved)
    base = ckpt.asset.base if ckpt else None
    multiple = SIZE_MULTIPLE_REQUIRED.get(base, DEFAULT_SIZE_MULTIPLE)
    for field_name, value in _sides(resolved):
        if value % multiple:
            where = f" for {label(ckpt)} ({base})" if multiple != DEFAULT_SIZE_MULTIPLE else ""
            yield Hit(
                f"{field_name} {value} is not a multiple of {multiple}{where}; "
                f"use {_round(value, multiple)}",
                [ckpt] if ckpt and where else [],
                field=field_name,
            )


@rule(
    "PT413",
    "size-rounded",
    Family.SETTINGS,
    Severity.WARNING,
    "Width or height will be rounded down by the pipeline (Flux: multiples of 16)",
)
def size_rounded(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Flux-family transformers pack 2x2 latent patches, so sizes must be multiples of 16.
    diffusers does not refuse other multiples of 8: it logs a line and renders a smaller
    image than the recipe asked for (1032 becomes 1024), and the image no longer matches
    the recipe's size.

    Example:

        checkpoint = "flux1-dev"
        width = 1032    # use 1024 or 1040
    """
    ckpt = usable_checkpoint(resolved)
    multiple = SIZE_MULTIPLE_ROUNDED.get(ckpt.asset.base) if ckpt else None
    if multiple is None:
        return
    for field_name, value in _sides(resolved):
        if value % multiple and not value % DEFAULT_SIZE_MULTIPLE:
            yield Hit(
                f"{field_name} {value} is not a multiple of {multiple} for {label(ckpt)} "
                f"({ckpt.asset.base}): it renders at {value - value % multiple}",
                [ckpt],
                field=field_name,
            )


def _sides(resolved: ResolvedRecipe) -> list[tuple[str, int]]:
    recipe = resolved.recipe
    return [("width", recipe.width), ("height", recipe.height)]


def _round(value: int, multiple: int) -> str:
    low = value - value % multiple
    return f"{low} or {low + multiple}" if low else str(multiple)


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
    are free (SDXL was trained on buckets such as 832x1216): the pixel count should stay
    within 0.5-2.5x the native one (0.25-4x for Flux, which holds up over a wider range).

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
    low, high = SIZE_RATIO_RANGE_BY_BASE.get(ckpt.asset.base, SIZE_RATIO_RANGE)
    if not low <= ratio <= high:
        yield Hit(
            f"{recipe.width}x{recipe.height} is {ratio:.2g}x the pixels of {side}x{side}, "
            f"the native size of {label(ckpt)} ({ckpt.asset.base}); keep within "
            f"{low:g}-{high:g}x",
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
    changes nothing. Few-step models are made for 1-8 steps and over-bake with many: Flux
    schnell (1-4), SDXL Turbo, SDXL Lightning, Hyper-SD, LCM, TCD and DMD2, whether as the
    checkpoint or as a LoRA on an ordinary checkpoint (recognised by edition, variant, or the
    words of the file name or title), and any model sampled with the LCM sampler.

    Example:

        steps = 4     # fine for Flux schnell or with an LCM LoRA, noise for realisticVisionV60
    """
    ckpt = usable_checkpoint(resolved)
    recipe = resolved.recipe
    why = _few_step_reasons(resolved)
    edition = ckpt.asset.identity.edition if ckpt else None
    if edition in STEPS_RANGE_BY_EDITION:
        low, high = STEPS_RANGE_BY_EDITION[edition]
    else:
        low, high = STEPS_RANGE_DISTILLED if why else STEPS_RANGE
    if not low <= recipe.steps <= high:
        kind = f"a few-step setup ({'; '.join(why)})" if why else _model_words(ckpt)
        yield Hit(
            f"{recipe.steps} steps is outside {low}-{high} for {kind}",
            [ckpt] if ckpt else [],
            field="steps",
        )


def _model_words(ckpt: Any | None) -> str:
    return label(ckpt) if ckpt is not None else "this model"


def _few_step_reasons(resolved: ResolvedRecipe) -> list[str]:
    """Why the recipe is a few-step render: the sampler, the checkpoint, a LoRA."""
    reasons = []
    if resolved.recipe.sampler.strip().lower() in FEW_STEP_SAMPLERS:
        reasons.append(f"the {resolved.recipe.sampler} sampler")
    ckpt = usable_checkpoint(resolved)
    if ckpt is not None:
        identity = ckpt.asset.identity
        variants = {identity.variant, *identity.variants} & FEW_STEP_VARIANTS
        if identity.edition in FEW_STEP_EDITIONS:
            reasons.append(f"{label(ckpt)} is {identity.base} {identity.edition}")
        elif variants:
            reasons.append(f"{label(ckpt)} is a {sorted(variants)[0]} model")
        elif word := _few_step_word(ckpt.asset):
            reasons.append(f"{label(ckpt)}, by the word {word!r} in its name")
    for res in found(resolved, "lora"):
        weight = res.lora.weight if res.lora is not None else 1.0
        if weight > 0 and (word := _few_step_word(res.asset)):
            reasons.append(f"{label(res)}, by the word {word!r} in its name")
    return reasons


def _few_step_word(asset: Any) -> str | None:
    title = asset.identity.metadata.get("title")
    for text in (asset.name, title if isinstance(title, str) else ""):
        words = _name_words(text)
        hit = next((w for w in words if w in FEW_STEP_WORDS), None)
        if hit:
            return hit
        pair = next((p for p in FEW_STEP_WORD_PAIRS if set(p) <= set(words)), None)
        if pair:
            return "-".join(pair)
    return None


def _name_words(text: str) -> list[str]:
    # "dreamshaperXL_v21TurboDPMSDE" -> dreamshaper, xl, v21, turbo, dpmsde
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


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
    above 15 burns colours. Guidance-distilled and few-step models are the opposite: Flux
    schnell, SDXL Turbo/Lightning and LCM/Hyper-SD/TCD LoRAs want CFG 1-2, and Flux dev takes
    its guidance (about 3.5) through a separate "Distilled CFG" input with CFG 1. CFG near 1
    is right there, not wrong.

    Example:

        checkpoint = "realisticVisionV60"
        cfg_scale = 1.0    # use about 7
    """
    ckpt = usable_checkpoint(resolved)
    if ckpt is None:
        return
    recipe = resolved.recipe
    why = _few_step_reasons(resolved)
    identity = ckpt.asset.identity
    flux_distilled = identity.base == "flux" and (
        identity.edition in DISTILLED_EDITIONS or not identity.edition
    )
    if flux_distilled:
        why.insert(0, f"{label(ckpt)} is guidance-distilled Flux")
    low, high = CFG_RANGE_DISTILLED if why else CFG_RANGE
    if not low <= recipe.cfg_scale <= high:
        hint = (
            "; its ~3.5 guidance goes in Distilled CFG, real CFG stays 1"
            if flux_distilled and identity.edition != "schnell"
            else ""
        )
        reasons = "; ".join(dict.fromkeys(why))
        what = f"a guidance-distilled setup ({reasons})" if why else label(ckpt)
        yield Hit(
            f"CFG {recipe.cfg_scale:g} is outside {low:g}-{high:g} for {what}{hint}",
            [ckpt],
            field="cfg_scale",
        )


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
            yield Hit(
                f"{label(group[0])} is applied {len(group)} times (weights {weights}, "
                f"{_places(group)})",
                group,
            )


def _places(group: list) -> str:
    """Where the copies of a LoRA come from: the [[loras]] table, prompt tags, or both."""
    places = dict.fromkeys(
        "the prompt" if r.lora is not None and r.lora.from_prompt else "[[loras]]" for r in group
    )
    return f"all in {next(iter(places))}" if len(places) == 1 else "in [[loras]] and the prompt"
