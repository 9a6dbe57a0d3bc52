"""PI6xx: are the files safe to load and complete enough to render?"""

from __future__ import annotations

from collections.abc import Iterator

from pantry.lint.context import LintContext
from pantry.lint.findings import Hit
from pantry.lint.registry import Family, Severity, rule
from pantry.lint.rules._common import found, label, usable_checkpoint
from pantry.lint.tables import VAE_FAMILY
from pantry.recipes.model import Resolution, ResolvedRecipe

_TEXT_ENCODERS = ("text_encoder", "text_encoder_2", "text_encoder_3")


@rule(
    "PI601",
    "unsafe-pickle",
    Family.INTEGRITY,
    Severity.ERROR,
    "A pickle file imports code outside the safe allowlist",
)
def unsafe_pickle(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Legacy `.ckpt/.pt/.bin` files are Python pickles; loading one runs whatever code it
    imports. pantry walks the pickle's opcodes without running them and lists the globals that
    are not plain tensor storage. Such a file can run programs on your machine the moment a
    tool loads it. Use a safetensors copy from a source you trust.

    Example: `old_model.ckpt` imports `os.system`.
    """
    for res in found(resolved):
        identity = res.asset.identity
        if identity.unsafe:
            imports = ", ".join(identity.unsafe_globals[:5]) or "unknown globals"
            yield Hit(f"{label(res)} is an unsafe pickle: it imports {imports}", [res])


@rule(
    "PI602",
    "unreadable-asset",
    Family.INTEGRITY,
    Severity.ERROR,
    "An asset's file could not be read",
)
def unreadable_asset(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The catalogued file failed validation when it was scanned: a truncated download, a
    header that overruns the file, a zero-byte placeholder. The render would crash on it.
    Download the file again and rescan.

    Example: `realisticVisionV60.safetensors` is 1.2 GB of a 2.1 GB download.
    """
    for res in found(resolved):
        if res.asset.status == "unreadable":
            reason = res.asset.error or "failed validation"
            yield Hit(f"{label(res)} is unreadable: {reason}", [res])


@rule(
    "PI603",
    "checkpoint-without-vae",
    Family.INTEGRITY,
    Severity.ERROR,
    "The checkpoint has no VAE and the recipe gives none",
)
def checkpoint_without_vae(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    "noVAE" and pruned checkpoints ship without VAE weights, and bare UNet/transformer files
    never have one. Without a VAE nothing can decode the image (A1111 silently reuses the
    last loaded VAE, giving NaNs or washed-out colours). Name one in the recipe.

    Example:

        checkpoint = "sd15_noVAE_pruned"
        vae = "vae-ft-mse-840000-ema-pruned"    # add this line
    """
    ckpt = usable_checkpoint(resolved)
    if ckpt is None or resolved.vae is not None:
        return
    missing = ckpt.asset.identity.components.get("missing", [])
    if "vae" in missing or ckpt.asset.kind == "diffusion_model":
        yield Hit(f"{label(ckpt)} has no VAE; set vae in the recipe", [ckpt])


@rule(
    "PI604",
    "checkpoint-without-text-encoder",
    Family.INTEGRITY,
    Severity.ERROR,
    "The checkpoint lacks a text encoder",
)
def checkpoint_without_text_encoder(
    resolved: ResolvedRecipe, context: LintContext
) -> Iterator[Hit]:
    """
    The checkpoint holds no weights for a text encoder it needs (CLIP-L, OpenCLIP-G, T5):
    a bare diffusion model, or a checkpoint saved without them. The prompt cannot be encoded;
    diffusers stops with "Weights for this component appear to be missing".

    Example: a Flux transformer-only file used as `checkpoint`.
    """
    ckpt = usable_checkpoint(resolved)
    if ckpt is None:
        return
    missing = [c for c in ckpt.asset.identity.components.get("missing", []) if c in _TEXT_ENCODERS]
    if missing:
        yield Hit(f"{label(ckpt)} lacks {', '.join(missing)}", [ckpt])
    elif ckpt.asset.kind == "diffusion_model":
        yield Hit(f"{label(ckpt)} is a bare diffusion model without text encoders", [ckpt])


@rule(
    "PI605",
    "sdxl-vae-fp16",
    Family.INTEGRITY,
    Severity.WARNING,
    "The VAE of an SDXL render is not known to be the fp16-fix VAE, and the render runs in fp16",
)
def sdxl_vae_fp16(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The original SDXL VAE overflows in half precision: images come out black or turn black
    in the last steps (A1111 then retries in fp32 or needs `--no-half-vae`, diffusers upcasts
    the VAE to fp32 at a memory cost, ComfyUI's `--fp16-vae` gives black images).
    madebyollin's sdxl-vae-fp16-fix decodes the same latents safely in fp16.

    Checked when linting for `--dtype fp16` (the default, what GPUs use; bf16 and fp32 have
    the range and never overflow) for a 4-channel VAE named in the recipe whose base is SDXL
    or undecided (SD1 and SDXL VAEs have identical shapes), unless a known hash says it is the
    fixed one. A VAE taken as fixed from its file name only is PI606; the checkpoint's own
    VAE is PI607.

    Example:

        checkpoint = "sdxl_base_1.0"
        vae = "sdxl_vae"    # use "sdxl-vae-fp16-fix"
    """
    found_vae = _sdxl_vae_in_fp16(resolved, context)
    if found_vae is None:
        return
    res, ckpt = found_vae
    info = res.asset.identity.vae
    if info is not None and info.fp16_fix is True:
        return
    if info is not None and info.fp16_fix is False:
        known = f" ({info.known_as}, by its hash)" if info.known_as else ""
        state = f"is the original SDXL VAE{known}"
    else:
        state = "is not known to be the fp16-fix VAE (no known hash; its name does not say so)"
    yield Hit(
        f"{label(res)} {state}, used with {label(ckpt)} in fp16: renders may turn black",
        [res, ckpt],
    )


@rule(
    "PI606",
    "sdxl-vae-fp16-fix-by-name",
    Family.INTEGRITY,
    Severity.INFO,
    "The SDXL VAE is taken as the fp16-fix VAE from its file name only",
)
def sdxl_vae_fp16_fix_by_name(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The fp16-fix VAE has the same tensor shapes as the original SDXL VAE; only its hash
    proves which one a file is. This file's hash is not one pantry knows (a re-save, another
    release, or a renamed original), so it is taken as fixed because its name says
    "fp16-fix". If fp16 renders come out black, that name was wrong: lint with
    `--dtype fp32` or use the madebyollin file.

    Example:

        checkpoint = "sdxl_base_1.0"
        vae = "my-sdxl-vae-fp16-fix"    # hash unknown; fine if the name tells the truth
    """
    found_vae = _sdxl_vae_in_fp16(resolved, context)
    if found_vae is None:
        return
    res, ckpt = found_vae
    info = res.asset.identity.vae
    if info is None or info.fp16_fix is not True or info.known_as:
        return
    by_name = any(e.about == "vae" and e.source == "name" for e in res.asset.identity.evidence)
    how = "from its file name only" if by_name else "without a known hash"
    yield Hit(
        f"{label(res)} counts as the fp16-fix VAE {how} (no known hash): if renders with "
        f"{label(ckpt)} in fp16 turn black, it is not",
        [res, ckpt],
    )


@rule(
    "PI607",
    "sdxl-builtin-vae-fp16",
    Family.INTEGRITY,
    Severity.INFO,
    "An SDXL checkpoint decodes with its own VAE in fp16",
)
def sdxl_builtin_vae_fp16(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Most SDXL checkpoints carry the original SDXL VAE, which overflows in fp16 (black
    images). Tools cope by default at some cost: A1111 retries the decode in fp32 when it
    sees NaNs (or runs with `--no-half-vae`), diffusers and pantry upcast the SDXL VAE to
    fp32. Which VAE a checkpoint carries cannot be told from its shapes, so this is a note,
    not a warning: name the fp16-fix VAE to decode in fp16 everywhere.

    Example:

        checkpoint = "sdxl_base_1.0"
        vae = "sdxl-vae-fp16-fix"    # add this line
    """
    ckpt = usable_checkpoint(resolved)
    if context.dtype != "fp16" or ckpt is None or resolved.vae is not None:
        return
    if _vae_family(ckpt.asset.base) != "sdxl":
        return
    identity = ckpt.asset.identity
    if "vae" in identity.components.get("missing", []) or ckpt.asset.kind != "checkpoint":
        return  # no VAE to speak of: PI603
    if identity.vae is not None and identity.vae.fp16_fix is True:
        return
    yield Hit(
        f"{label(ckpt)} decodes with its built-in VAE, not known to be fp16-fixed: tools "
        "upcast it to fp32 or retry on black images; set vae to sdxl-vae-fp16-fix",
        [ckpt],
    )


def _sdxl_vae_in_fp16(
    resolved: ResolvedRecipe, context: LintContext
) -> tuple[Resolution, Resolution] | None:
    """The recipe's VAE and SDXL checkpoint, when that VAE may be an SDXL one used in fp16."""
    ckpt = usable_checkpoint(resolved)
    res = resolved.vae
    if context.dtype != "fp16" or ckpt is None or res is None or res.asset is None:
        return None
    if _vae_family(ckpt.asset.base) != "sdxl" or res.asset.kind != "vae":
        return None
    identity = res.asset.identity
    channels = identity.vae.latent_channels if identity.vae is not None else None
    if channels not in (None, 4):
        return None  # PC207
    if identity.base != "unknown" and _vae_family(identity.base) != "sdxl":
        return None  # an SD1 VAE on SDXL is PC202; it does not overflow
    return res, ckpt


def _vae_family(base: str) -> str:
    return VAE_FAMILY.get(base, base)
