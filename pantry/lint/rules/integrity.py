"""PI6xx: are the files safe to load and complete enough to render?"""

from __future__ import annotations

from collections.abc import Iterator

from pantry.lint.context import LintContext
from pantry.lint.findings import Hit
from pantry.lint.registry import Family, Severity, rule
from pantry.lint.rules._common import found, label, usable_checkpoint
from pantry.lint.tables import VAE_FAMILY
from pantry.recipes.model import ResolvedRecipe

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
    "The SDXL VAE is not the fp16-fix VAE and the render runs in fp16",
)
def sdxl_vae_fp16(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The original SDXL VAE overflows in half precision: images come out black or turn black
    in the last steps (A1111 then retries in fp32, diffusers upcasts the VAE to fp32 at a
    memory cost). madebyollin's sdxl-vae-fp16-fix decodes the same latents safely in fp16.
    Checked when linting for `--dtype fp16` (the default, what GPUs use); the checkpoint's
    own VAE counts unless it is known to be the fixed one.

    Example:

        checkpoint = "sdxl_base_1.0"
        vae = "sdxl_vae"    # use "sdxl-vae-fp16-fix"
    """
    ckpt = usable_checkpoint(resolved)
    if context.dtype != "fp16" or ckpt is None or VAE_FAMILY.get(ckpt.asset.base) != "sdxl":
        return
    if resolved.vae is not None:
        if resolved.vae.asset is None or resolved.vae.asset.kind != "vae":
            return
        source, vae_info = resolved.vae, resolved.vae.asset.identity.vae
    else:
        source, vae_info = ckpt, ckpt.asset.identity.vae
        if "vae" in ckpt.asset.identity.components.get("missing", []):
            return
    fixed = vae_info.fp16_fix if vae_info is not None else None
    if fixed is True:
        return
    whose = label(source) if source is not ckpt else f"the built-in VAE of {label(ckpt)}"
    state = "is the original SDXL VAE" if fixed is False else "is not known to be fp16-fixed"
    yield Hit(f"{whose} {state}: fp16 renders may turn black", [source])
