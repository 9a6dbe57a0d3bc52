"""PA1xx: can every asset the recipe names be found, and is it the right kind of file?"""

from __future__ import annotations

from collections.abc import Iterator

from pantry.lint.context import LintContext
from pantry.lint.findings import Hit
from pantry.lint.registry import Family, Severity, rule
from pantry.lint.rules._common import SLOT_WORDS, label
from pantry.lint.tables import SLOT_KINDS
from pantry.recipes.model import Resolution, ResolvedRecipe


def _named_in_table(resolution: Resolution) -> bool:
    # Prompt tags (<lora:...>) and embeddings are reported by the prompt family (PP503).
    if resolution.slot == "embedding":
        return False
    return not (resolution.lora is not None and resolution.lora.from_prompt)


@rule("PA101", "asset-not-found", Family.ASSETS, Severity.ERROR, "An asset is not in the catalog")
def asset_not_found(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The recipe names a checkpoint, VAE or LoRA that matches no catalogued file: no name, path,
    hash prefix or id fits. The render would stop at loading it.

    Fix the name, or `pantry scan` the folder that holds the file.

    Example:

        checkpoint = "realisticVisionV51"   # the catalog holds realisticVisionV60

    LoRA tags inside the prompt and embeddings are reported by PP503.
    """
    for res in resolved.all():
        if res.problem == "not_found" and _named_in_table(res):
            detail = f" ({res.detail})" if res.detail else ""
            yield Hit(f"{label(res)} is not in the catalog{detail}", [res])


@rule("PA102", "ambiguous-ref", Family.ASSETS, Severity.ERROR, "A name matches several assets")
def ambiguous_ref(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    A ref matches more than one catalogued file, so the render could load either. The message
    lists the candidates; name one by its path, a longer hash prefix or its catalog id.

    Example:

        [[loras]]
        ref = "add_detail"   # loras/add_detail.safetensors and old/add_detail.safetensors
    """
    for res in resolved.all():
        if res.problem == "ambiguous":
            paths = ", ".join(str(getattr(c, "path", c)) for c in res.candidates[:5])
            more = f" and {len(res.candidates) - 5} more" if len(res.candidates) > 5 else ""
            yield Hit(f"{label(res)} is ambiguous: matches {paths}{more}", [res])


@rule(
    "PA103",
    "wrong-kind-for-slot",
    Family.ASSETS,
    Severity.ERROR,
    "An asset is the wrong kind of file for its slot",
)
def wrong_kind_for_slot(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The file found for a slot is another kind of model: a LoRA given as the checkpoint, a
    checkpoint given as the VAE, an embedding listed among the LoRAs. Loaders fail with shape
    or key errors far from the cause (ComfyUI's "Could not detect model type").

    Example:

        checkpoint = "add_detail"    # add_detail.safetensors is a LoRA

    Files whose kind is unknown are not reported here (see PC208).
    """
    for res in resolved.all():
        asset = res.asset
        wanted = SLOT_KINDS.get(res.slot)
        if asset is None or wanted is None or asset.kind in wanted or asset.kind == "unknown":
            continue
        yield Hit(
            f"{label(res)} is a {asset.kind}, not a {SLOT_WORDS.get(res.slot, res.slot)}", [res]
        )


@rule(
    "PA104",
    "hub-ref-not-pulled",
    Family.ASSETS,
    Severity.ERROR,
    "An hf:// ref has not been downloaded yet",
)
def hub_ref_not_pulled(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The recipe names a Hugging Face file (`hf://owner/repo/file.safetensors`) that is not in
    the catalog yet. Linting never downloads; pull it first, then lint again so its base and
    kind can be checked.

    Example:

        vae = "hf://madebyollin/sdxl-vae-fp16-fix/sdxl.vae.safetensors"

    Fix: `pantry pull hf://madebyollin/sdxl-vae-fp16-fix/sdxl.vae.safetensors`.
    """
    for res in resolved.all():
        if res.problem == "not_pulled":
            yield Hit(f"{label(res)} is not downloaded yet; run `pantry pull` on it", [res])


@rule(
    "PA105",
    "asset-file-missing",
    Family.ASSETS,
    Severity.ERROR,
    "A catalogued file is gone from disk",
)
def asset_file_missing(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The catalog knows the asset, but its file was moved or deleted since the last scan.
    Rescan the folder it moved to (`pantry scan`), or restore the file.

    Example: `realisticVisionV60.safetensors` was moved from `models/` to `models/sd15/`
    and the catalog still points at the old path.
    """
    for res in resolved.all():
        if res.asset is not None and res.asset.status == "missing":
            yield Hit(f"{label(res)}: file is gone from {res.asset.path}", [res])
