"""PC2xx: does every asset fit the checkpoint's architecture?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pantry.lint.context import LintContext
from pantry.lint.findings import Hit
from pantry.lint.registry import Family, Severity, rule
from pantry.lint.rules._common import base_words, found, known_base, label, usable_checkpoint
from pantry.lint.tables import (
    COVERAGE_LOW,
    COVERAGE_PARTIAL,
    LATENT_CHANNELS,
    SLOT_KINDS,
    UNDECIDED_VAE_ACCEPTED,
    VAE_FAMILY,
)
from pantry.recipes.model import Resolution, ResolvedRecipe


def _base_mismatches(resolved: ResolvedRecipe, slot: str) -> Iterator[Hit]:
    ckpt = usable_checkpoint(resolved)
    if ckpt is None or known_base(ckpt.asset) is None:
        return
    for res in found(resolved, slot):
        bases = _asset_bases(res.asset)
        if bases and ckpt.asset.base not in bases:
            yield Hit(
                f"{label(res)} is for {' or '.join(bases)}, but {label(ckpt)} is "
                f"{base_words(ckpt.asset)}",
                [res, ckpt],
            )


def _asset_bases(asset: Any) -> list[str]:
    """Bases the asset may belong to; empty when unknown."""
    identity = asset.identity
    if identity.base != "unknown":
        return [identity.base]
    return list(identity.base_candidates)


@rule(
    "PC201",
    "lora-base-mismatch",
    Family.COMPATIBILITY,
    Severity.ERROR,
    "A LoRA was made for another base model than the checkpoint",
)
def lora_base_mismatch(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    A LoRA only patches the architecture it was trained on. An SD1.5 LoRA on an SDXL checkpoint
    fails with `mat1 and mat2 shapes cannot be multiplied (77x2048 and 768x320)` in A1111, a
    size mismatch in diffusers, or, in ComfyUI, is silently dropped (`lora key not loaded`).
    SDXL-derived families (Pony, Illustrious, NoobAI) share SDXL's architecture; the SDXL
    refiner does not.

    Example:

        checkpoint = "sdxl_base_1.0"
        [[loras]]
        ref = "add_detail"   # an SD1 LoRA
    """
    yield from _base_mismatches(resolved, "lora")


@rule(
    "PC202",
    "vae-base-mismatch",
    Family.COMPATIBILITY,
    Severity.ERROR,
    "A VAE belongs to another base model than the checkpoint",
)
def vae_base_mismatch(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The VAE decodes latents; it must speak the checkpoint's latent space. SD1 and SD2 share
    one VAE, SDXL and its refiner another, SD3 and Flux each their own. SD1 and SDXL VAEs have
    identical tensor shapes, so the wrong one loads fine and gives washed-out or garish
    colours. A VAE whose base is undecided between SD1 and SDXL (no known hash, no metadata)
    is accepted for SD1, SD2 and SDXL; one undecided between SD3 and Flux is reported by PC208,
    as those decode each other's latents to garbage. A VAE with the wrong number of latent
    channels is reported by PC207 instead.

    Example:

        checkpoint = "sdxl_base_1.0"
        vae = "vae-ft-mse-840000-ema-pruned"   # the SD1 VAE
    """
    ckpt = usable_checkpoint(resolved)
    if ckpt is None or known_base(ckpt.asset) is None:
        return
    wanted = _vae_family(ckpt.asset.base)
    for res in found(resolved, "vae"):
        if _latent_channel_clash(res.asset, ckpt.asset) is not None:
            continue
        bases = _vae_bases(res.asset)
        if bases and wanted not in {_vae_family(b) for b in bases}:
            yield Hit(
                f"{label(res)} is for {' or '.join(bases)}, but {label(ckpt)} is "
                f"{base_words(ckpt.asset)}",
                [res, ckpt],
            )


def _vae_bases(asset: Any) -> list[str]:
    """The VAE's decided base, else the bases its shapes allow."""
    bases = _asset_bases(asset)
    if bases:
        return bases
    vae = asset.identity.vae
    return list(vae.base_candidates) if vae is not None else []


def _vae_family(base: str) -> str:
    return VAE_FAMILY.get(base, base)


def _undecided_vae(res: Resolution, ckpt: Resolution | None) -> str | None:
    """Why a VAE of undecided base might not fit the checkpoint, or None when it is fine."""
    asset = res.asset
    if known_base(asset) or ckpt is None or known_base(ckpt.asset) is None:
        return None
    families = {_vae_family(b) for b in _vae_bases(asset)}
    wanted = _vae_family(ckpt.asset.base)
    if len(families) < 2 or wanted not in families:
        return None  # decided enough, or a plain mismatch (PC202)
    if any(families <= accepted for accepted in UNDECIDED_VAE_ACCEPTED):
        return None
    return f"could be for {' or '.join(_vae_bases(asset))} (identical shapes, no known hash)"


@rule(
    "PC203",
    "embedding-base-mismatch",
    Family.COMPATIBILITY,
    Severity.ERROR,
    "An embedding was trained for another text encoder than the checkpoint's",
)
def embedding_base_mismatch(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    A textual-inversion embedding is a set of vectors for one text encoder: 768 wide for SD1
    (CLIP-L), 1024 for SD2 (OpenCLIP-H), a CLIP-L + CLIP-G pair for SDXL. On another base it is
    skipped or fails to load, and the words it stood for do nothing.

    Example:

        checkpoint = "sdxl_base_1.0"
        negative_prompt = "easynegative"   # an SD1 embedding
    """
    yield from _base_mismatches(resolved, "embedding")


@rule(
    "PC204",
    "controlnet-base-mismatch",
    Family.COMPATIBILITY,
    Severity.ERROR,
    "A ControlNet was trained for another base model than the checkpoint",
)
def controlnet_base_mismatch(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    A ControlNet feeds residuals into the UNet blocks of the architecture it was trained
    with; an SD1.5 ControlNet on an SDXL checkpoint fails with a shape error.

    Example: an SD1.5 `control_v11p_sd15_canny` ControlNet with `sdxl_base_1.0`.
    """
    yield from _base_mismatches(resolved, "controlnet")


@rule(
    "PC205",
    "lora-low-coverage",
    Family.COMPATIBILITY,
    Severity.ERROR,
    "Most of a LoRA's modules are absent from the checkpoint",
)
def lora_low_coverage(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    pantry compares the modules a LoRA patches with the modules the checkpoint has, from both
    files' headers. When fewer than half are present, most of the LoRA is silently dropped
    (ComfyUI logs `lora key not loaded` and renders anyway; Fooocus drops the LoRA without a
    word): the base labels may agree, but the layouts do not.

    Example: a LoRA trained on an SDXL model with extra blocks, applied to `sdxl_base_1.0`,
    where 30% of its 700 modules exist.

    Partial coverage (50-95%) is PC206.
    """
    yield from _coverage_hits(resolved, context, 0.0, COVERAGE_LOW)


@rule(
    "PC206",
    "lora-partial-coverage",
    Family.COMPATIBILITY,
    Severity.WARNING,
    "Some of a LoRA's modules are absent from the checkpoint",
)
def lora_partial_coverage(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Between half and 95% of the modules a LoRA patches exist in the checkpoint. The rest are
    skipped: often the text-encoder part when the checkpoint lacks (or renames) a text
    encoder, or blocks of a pruned model. The LoRA works, weaker than its author intended.

    Example: a LoRA with 264 modules of which 192 (73%) exist in the checkpoint.
    """
    yield from _coverage_hits(resolved, context, COVERAGE_LOW, COVERAGE_PARTIAL)


def _coverage_hits(
    resolved: ResolvedRecipe, context: LintContext, low: float, high: float
) -> Iterator[Hit]:
    ckpt = usable_checkpoint(resolved)
    if ckpt is None or context.lora_coverage is None:
        return
    for res in found(resolved, "lora"):
        if res.asset.kind != "lora" or res.asset.status != "ok":
            continue
        bases = _asset_bases(res.asset)
        if bases and known_base(ckpt.asset) and ckpt.asset.base not in bases:
            continue  # a base mismatch (PC201) says more than a coverage figure
        share = context.lora_coverage(res.asset, ckpt.asset)
        if share is not None and low <= share < high:
            yield Hit(
                f"{label(res)}: only {share:.0%} of its modules exist in {label(ckpt)}",
                [res, ckpt],
            )


@rule(
    "PC207",
    "vae-latent-channels",
    Family.COMPATIBILITY,
    Severity.ERROR,
    "The VAE's latent channels differ from what the checkpoint produces",
)
def vae_latent_channels(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    SD1, SD2 and SDXL work in 4 latent channels; SD3 and Flux in 16, Flux.2 in 32. A VAE with
    another channel count cannot decode the checkpoint's latents at all: the render stops
    with a shape error after all the sampling steps.

    Example:

        checkpoint = "realisticVisionV60"   # SD1, 4 channels
        vae = "flux_ae"                     # 16 channels
    """
    ckpt = usable_checkpoint(resolved)
    if ckpt is None:
        return
    for res in found(resolved, "vae"):
        clash = _latent_channel_clash(res.asset, ckpt.asset)
        if clash is not None:
            have, want = clash
            yield Hit(
                f"{label(res)} has {have} latent channels, {label(ckpt)} "
                f"({ckpt.asset.base}) needs {want}",
                [res, ckpt],
            )


def _latent_channel_clash(vae: Any, checkpoint: Any | None) -> tuple[int, int] | None:
    if checkpoint is None:
        return None
    have = vae.identity.vae.latent_channels if vae.identity.vae is not None else None
    want = LATENT_CHANNELS.get(checkpoint.base)
    if have is None or want is None or have == want:
        return None
    return have, want


@rule(
    "PC208",
    "base-unknown",
    Family.COMPATIBILITY,
    Severity.WARNING,
    "An asset's base model is unknown, so compatibility cannot be checked",
)
def base_unknown(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    pantry could not tell which base model an asset belongs to (no decisive tensors, no
    metadata, no known hash), so the compatibility rules cannot vouch for it. This is a
    warning, never a silence: the render may work, or fail the way mismatched models do. It
    also covers assets whose base is narrowed to a few candidates that the checkpoint's base is
    one of (an SD3-or-Flux VAE on a Flux checkpoint), and stays quiet where another finding
    already speaks for the file (unsafe pickle, wrong kind, unreadable) or where the LoRA's
    modules were compared with the checkpoint's from both headers (PC205/PC206).

    Tell pantry what it is with `pantry tag` (a user override), or check the model page.

    Example:

        checkpoint = "flux1-dev"
        vae = "ae_renamed"    # 16 latent channels: the Flux or the SD3 VAE
    """
    ckpt = usable_checkpoint(resolved)
    for res in found(resolved):
        message = _unknown_base_message(res, ckpt, context)
        if message:
            yield Hit(message, [res, ckpt] if ckpt and res is not ckpt else [res])


def _unknown_base_message(
    res: Resolution, ckpt: Resolution | None, context: LintContext
) -> str | None:
    asset = res.asset
    identity = asset.identity
    # Another rule already says something louder about this file.
    if asset.status != "ok" or identity.unsafe or _wrong_kind_for_slot(res):
        return None
    against = f" against {label(ckpt)}" if ckpt is not None and res is not ckpt else ""
    if res.slot == "vae" and identity.vae is not None:
        if _latent_channel_clash(asset, ckpt.asset if ckpt else None) is not None:
            return None  # PC207
        why = _undecided_vae(res, ckpt)
        if why:
            return f"{label(res)} {why}; cannot check it{against}"
        if _vae_bases(asset):
            return None
    elif known_base(asset):
        return None
    elif res.slot == "lora" and ckpt is not None and _coverage_measured(res, ckpt, context):
        return None  # its modules were compared with the checkpoint's (PC205/PC206)
    elif identity.base_candidates:
        if ckpt is None or known_base(ckpt.asset) not in identity.base_candidates:
            return None  # a plain mismatch (PC201, ...) or nothing to compare with
        return (
            f"{label(res)} could be for {' or '.join(identity.base_candidates)}; "
            f"cannot confirm it fits{against}"
        )
    reason = f" ({identity.reason})" if identity.reason else ""
    what = "kind and base model" if identity.kind == "unknown" else "base model"
    if res is ckpt or res.slot == "checkpoint":
        return f"{label(res)}: {what} unknown{reason}; no other asset can be checked against it"
    return f"{label(res)}: {what} unknown{reason}; cannot check it{against}"


def _wrong_kind_for_slot(res: Resolution) -> bool:
    wanted = SLOT_KINDS.get(res.slot)
    kind = res.asset.kind
    return wanted is not None and kind != "unknown" and kind not in wanted


def _coverage_measured(res: Resolution, ckpt: Resolution, context: LintContext) -> bool:
    if context.lora_coverage is None or res.asset.kind != "lora":
        return False
    return context.lora_coverage(res.asset, ckpt.asset) is not None


@rule(
    "PC209",
    "refiner-as-checkpoint",
    Family.COMPATIBILITY,
    Severity.ERROR,
    "The SDXL refiner is used as the main checkpoint",
)
def refiner_as_checkpoint(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The SDXL refiner only denoises the last steps of an SDXL base render (img2img on its
    latents). It has one text encoder (OpenCLIP-G) and aesthetic-score conditioning; as the
    main checkpoint of a text-to-image render it gives blurry noise or fails, and no SDXL
    LoRA fits it.

    Example:

        checkpoint = "sd_xl_refiner_1.0"   # use sdxl_base_1.0
    """
    ckpt = usable_checkpoint(resolved)
    if ckpt is not None and ckpt.asset.base == "sdxl_refiner":
        yield Hit(f"{label(ckpt)} is the SDXL refiner, not a text-to-image model", [ckpt])


@rule(
    "PC210",
    "inpaint-model-for-txt2img",
    Family.COMPATIBILITY,
    Severity.WARNING,
    "An inpainting checkpoint is used for text-to-image",
)
def inpaint_model_for_txt2img(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Inpainting checkpoints take 9 input channels (latent, mask, masked image). A recipe
    renders from text alone, so there is no image or mask to give it: diffusers' text-to-image
    pipelines fail on the channel count, A1111 feeds an empty mask and quality drops.

    Example:

        checkpoint = "sd15_inpainting"   # use the matching non-inpainting model
    """
    ckpt = usable_checkpoint(resolved)
    if ckpt is None:
        return
    variants = {ckpt.asset.identity.variant, *ckpt.asset.identity.variants}
    if variants & {"inpaint", "fill"}:
        yield Hit(f"{label(ckpt)} is an inpainting model; recipes render text-to-image", [ckpt])
