"""Hand-built assets and resolved recipes shaped like the demo catalog's files.

Rules are pure functions of a ResolvedRecipe and a LintContext, so rule tests need no files,
no database and no tokenizer: these builders give them realistic Identity values.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from pantry.catalog.asset import Asset
from pantry.errors import AmbiguousRefError, RefNotFoundError
from pantry.identify.identity import Evidence, Identity, StyleHint, VaeInfo
from pantry.lint.context import LintContext
from pantry.recipes.model import LoraSpec, Recipe, Resolution, ResolvedRecipe

_ids = itertools.count(1)
FULL = {"present": ["unet", "vae", "text_encoder"], "missing": []}
FULL_XL = {"present": ["unet", "vae", "text_encoder", "text_encoder_2"], "missing": []}

# Recipe lines as a TOML file would have them, so findings can be checked for their line.
LINES = {
    "checkpoint": 2,
    "vae": 3,
    "prompt": 4,
    "negative_prompt": 5,
    "clip_skip": 6,
    "width": 7,
    "height": 8,
    "steps": 9,
    "cfg_scale": 10,
    "sampler": 11,
    "scheduler": 12,
}


def asset(
    name: str,
    kind: str = "checkpoint",
    base: str = "sd1",
    *,
    status: str = "ok",
    error: str | None = None,
    suffix: str = ".safetensors",
    **identity: Any,
) -> Asset:
    if kind == "checkpoint":
        identity.setdefault("components", dict(FULL_XL if "sdxl" in base else FULL))
    return Asset(
        id=next(_ids),
        path=Path("/models") / f"{name}{suffix}",
        name=name,
        size=1000,
        format="pickle" if suffix == ".ckpt" else "safetensors",
        status=status,
        identity=Identity(kind=kind, base=base, **identity),
        error=error,
    )


# --- the demo catalog's files -------------------------------------------------------------


def realistic_vision() -> Asset:
    return asset("realisticVisionV60", style=StyleHint("photoreal", "name", "realistic"))


def anime_dream() -> Asset:
    return asset(
        "animeDream_v3",
        style=StyleHint("anime", "metadata", "modelspec.tags: anime"),
        metadata={"clip_skip": 2},
    )


def sdxl_base() -> Asset:
    return asset("sdxl_base_1.0", base="sdxl")


def pony() -> Asset:
    return asset("ponyDiffusionV6XL", base="sdxl", lineage="pony")


def refiner() -> Asset:
    return asset("sd_xl_refiner_1.0", base="sdxl_refiner")


def no_vae_checkpoint() -> Asset:
    components = {"present": ["unet", "text_encoder"], "missing": ["vae"]}
    return asset("sd15_noVAE_pruned", components=components)


def inpainting() -> Asset:
    return asset("sd15_inpainting", variant="inpaint", variants=["inpaint"])


def flux_schnell() -> Asset:
    components = {"present": ["unet", "vae", "text_encoder", "text_encoder_3"], "missing": []}
    return asset("flux1-schnell", base="flux", edition="schnell", components=components)


def flux_dev() -> Asset:
    components = {"present": ["unet", "vae", "text_encoder", "text_encoder_3"], "missing": []}
    return asset("flux1-dev", base="flux", edition="dev", components=components)


def vae_mse() -> Asset:
    return asset("vae-ft-mse-840000-ema-pruned", "vae", "sd1", vae=VaeInfo(latent_channels=4))


def vae_sd1_or_sdxl() -> Asset:
    vae = VaeInfo(latent_channels=4, base_candidates=["sd1", "sdxl"])
    return asset("kl-f8-anime2", "vae", "unknown", vae=vae, base_candidates=["sd1", "sdxl"])


def sdxl_vae() -> Asset:
    # recognised by its SHA-256, as identify records it
    vae = VaeInfo(latent_channels=4, fp16_fix=False, known_as="sdxl_vae (stabilityai)")
    return asset("sdxl_vae", "vae", "sdxl", vae=vae)


def sdxl_vae_fix() -> Asset:
    vae = VaeInfo(latent_channels=4, fp16_fix=True, known_as="sdxl-vae-fp16-fix (madebyollin)")
    return asset("sdxl-vae-fp16-fix", "vae", "sdxl", vae=vae)


def sdxl_vae_undecided(name: str = "sdxl_vae_copy", fp16_fix: bool | None = None) -> Asset:
    """A 4-channel VAE with no known hash: SD1 or SDXL by shape; fp16-fix only by its name."""
    vae = VaeInfo(latent_channels=4, fp16_fix=fp16_fix, base_candidates=["sdxl", "sd1"])
    evidence = [Evidence("vae", "4 latent channels (decoder.conv_in.weight)")]
    if fp16_fix:
        evidence.append(Evidence("vae", "file name contains 'fp16-fix' (a guess)", "name"))
    return asset(
        name, "vae", "unknown", vae=vae, base_candidates=["sdxl", "sd1"], evidence=evidence
    )


def flux_ae() -> Asset:
    return asset("flux_ae", "vae", "flux", vae=VaeInfo(latent_channels=16))


def vae_flux_or_sd3() -> Asset:
    vae = VaeInfo(latent_channels=16, base_candidates=["flux", "sd3"])
    return asset("ae_renamed", "vae", "unknown", vae=vae, base_candidates=["flux", "sd3"])


def sd3_medium() -> Asset:
    components = {"present": ["unet", "vae", "text_encoder", "text_encoder_2"], "missing": []}
    return asset("sd3_medium", base="sd3", edition="medium", components=components)


def add_detail() -> Asset:
    """A detail slider: its only "trigger word" is a guess from its training tags."""
    return asset(
        "add_detail",
        "lora",
        "sd1",
        style=StyleHint("photoreal", "training_tags", "training tags: photo (35), realistic (30)"),
        metadata={"trigger_words": ["detailed"], "tag_frequency": [["detailed", 40]]},
    )


def detail_tweaker_xl() -> Asset:
    return asset("detail_tweaker_xl", "lora", "sdxl")


def anime_lineart() -> Asset:
    """Declares its trigger word (modelspec.trigger_phrase), trained at clip skip 2 (demo)."""
    return asset(
        "animeLineart_sd15",
        "lora",
        "sd1",
        style=StyleHint("anime", "training_tags", "training tags: 1girl (312), lineart (120)"),
        metadata={
            "clip_skip": 2,
            "trigger_words": ["lineart"],
            "tag_frequency": [["lineart", 120], ["1girl", 110]],
        },
        evidence=[Evidence("trigger_words", "modelspec.trigger_phrase 'lineart'", "metadata")],
    )


def guessed_lineart() -> Asset:
    """Trigger words only guessed from ss_tag_frequency (no declared phrase)."""
    return asset(
        "lineartGuess_sd15",
        "lora",
        "sd1",
        metadata={"trigger_words": ["lineart"], "tag_frequency": [["lineart", 120]]},
        evidence=[Evidence("trigger_words", "guessed from training captions", "training_tags")],
    )


def lineart_declared() -> Asset:
    """A LoRA whose file declares its trigger phrase (identify records it as metadata)."""
    return asset(
        "lineart_v2",
        "lora",
        "sd1",
        metadata={"trigger_words": ["lineart", "sketch"]},
        evidence=[
            Evidence("trigger_words", "modelspec.trigger_phrase 'lineart, sketch'", "metadata")
        ],
    )


def lcm_lora() -> Asset:
    return asset("lcm-lora-sdv1-5", "lora", "sd1")


def lightning_lora_xl() -> Asset:
    return asset("sdxl_lightning_4step_lora", "lora", "sdxl")


def easynegative() -> Asset:
    return asset("easynegative", "embedding", "sd1")


def old_model() -> Asset:
    return asset(
        "old_model", suffix=".ckpt", unsafe=True, unsafe_globals=["os.system"], format="pickle"
    )


# --- resolutions and recipes --------------------------------------------------------------


def found(slot: str, item: Asset, line: int | None = None, **lora: Any) -> Resolution:
    spec = LoraSpec(ref=item.name, **lora) if slot == "lora" else None
    return Resolution(slot=slot, ref=item.name, asset=item, lora=spec, line=line)


def missing(slot: str, ref: str, problem: str = "not_found", **lora: Any) -> Resolution:
    spec = LoraSpec(ref=ref, **lora) if slot == "lora" else None
    return Resolution(slot=slot, ref=ref, problem=problem, lora=spec, detail="")


def recipe_with(
    checkpoint: Asset | Resolution,
    *,
    vae: Asset | Resolution | None = None,
    loras: list[Asset | Resolution] = (),
    embeddings: list[Asset | Resolution] = (),
    controlnets: list[Asset | Resolution] = (),
    **fields: Any,
) -> ResolvedRecipe:
    """A resolved recipe; plain Assets become found resolutions of the right slot."""

    def as_res(slot: str, item: Asset | Resolution, line: int | None = None) -> Resolution:
        return item if isinstance(item, Resolution) else found(slot, item, line)

    ckpt = as_res("checkpoint", checkpoint, LINES["checkpoint"])
    fields.setdefault("sampler", "DPM++ 2M")
    recipe = Recipe(
        checkpoint=ckpt.ref,
        vae=None if vae is None else as_res("vae", vae).ref,
        source=Path("recipes/test.toml"),
        lines=dict(LINES),
        **fields,
    )
    return ResolvedRecipe(
        recipe=recipe,
        checkpoint=ckpt,
        vae=None if vae is None else as_res("vae", vae, LINES["vae"]),
        loras=[as_res("lora", x, 20 + i) for i, x in enumerate(loras)],
        embeddings=[as_res("embedding", x, LINES["negative_prompt"]) for x in embeddings],
        controlnets=[as_res("controlnet", x) for x in controlnets],
    )


def quiet_context(**overrides: Any) -> LintContext:
    """A context with no file or tokenizer access unless a test gives one."""
    values: dict[str, Any] = {
        "dtype": "fp16",
        "count_tokens": None,
        "count_chunks": None,
        "lora_coverage": None,
    }
    values.update(overrides)
    return LintContext(**values)


class FakeCatalog:
    """The three look-ups pantry.recipes.resolve needs, over a list of assets."""

    def __init__(self, assets: list[Asset]):
        self.assets = assets

    def resolve(self, ref: str, kind: str | None = None) -> Asset:
        matches = [
            a
            for a in self.assets
            if a.name.lower() == ref.lower() and (kind is None or a.kind == kind)
        ]
        if not matches:
            raise RefNotFoundError(ref)
        if len(matches) > 1:
            raise AmbiguousRefError(ref, matches)
        return matches[0]

    def find(self, **filters: Any) -> list[Asset]:
        return [a for a in self.assets if all(getattr(a, k) == v for k, v in filters.items())]

    def find_by_hash(self, prefix: str) -> list[Asset]:
        return []

    def close(self) -> None:
        pass


def demo_assets() -> list[Asset]:
    """The demo catalog as `pantry demo` identifies it: its VAEs match no known hash."""
    mse = vae_sd1_or_sdxl()
    mse.name = "vae-ft-mse-840000-ema-pruned"
    ae = vae_flux_or_sd3()
    ae.name = "flux_ae"
    return [
        realistic_vision(),
        anime_dream(),
        sdxl_base(),
        pony(),
        refiner(),
        no_vae_checkpoint(),
        inpainting(),
        mse,
        sdxl_vae_undecided("sdxl_vae"),
        sdxl_vae_undecided("sdxl-vae-fp16-fix", fp16_fix=True),
        ae,
        add_detail(),
        detail_tweaker_xl(),
        anime_lineart(),
        asset("flux_realism_lora", "lora", "flux"),
        easynegative(),
        old_model(),
    ]
