"""What the renderer is asked to do, as plain values (no torch): a RenderJob per image.

A job carries file paths and the facts the renderer needs about them (format, base, variant,
whether a VAE is the fp16-fix one), so the renderer never consults the catalog.
``job_from_resolved`` builds one from a recipe the catalog has resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pantry.errors import RenderError

DIFFUSERS_FORMAT = "diffusers"
# A sidecar next to a single file, holding the diffusers configs of an architecture pantry does
# not bundle (A1111 reads a ``<checkpoint>.yaml`` next to a checkpoint in the same spirit).
SIDECAR_SUFFIX = ".config.json"
EMPHASIS_KEY = "Emphasis"  # the infotext key (kept in Recipe.extra) of A1111's emphasis setting


@dataclass(frozen=True)
class LoraJob:
    path: Path
    weight: float = 1.0
    name: str = ""  # what infotext calls it (the file stem when empty)
    unet_weight: float | None = None  # A1111 <lora:name:te:unet>; None: ``weight`` everywhere


@dataclass(frozen=True)
class EmbeddingJob:
    path: Path
    name: str  # the word that stands for it in the prompts


@dataclass
class RenderJob:
    checkpoint: Path
    base: str  # sd1 | sd2 | sdxl
    checkpoint_format: str = "safetensors"  # safetensors | pickle | diffusers
    variant: str | None = None  # v_prediction / 768_v picks the SD2 768-v config
    config_dir: Path | None = None  # diffusers config folder; None: sidecar, else bundled
    loras: list[LoraJob] = field(default_factory=list)
    embeddings: list[EmbeddingJob] = field(default_factory=list)  # textual inversions
    vae: Path | None = None  # None: the checkpoint's own VAE
    vae_format: str = "safetensors"
    vae_fp16_fix: bool = False  # the SDXL fp16-fix VAE may stay in fp16
    clip_skip: int | None = None  # A1111 meaning: 1 = last layer
    emphasis: str | None = None  # A1111's "Emphasis" setting; None: "Original"
    prompt: str = ""
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    steps: int = 20
    cfg_scale: float = 7.0
    sampler: str = "Euler a"
    scheduler: str | None = None
    seed: int = -1  # -1: a random seed, reported in the result
    name: str | None = None

    @property
    def sidecar_config(self) -> Path:
        return self.checkpoint.with_name(self.checkpoint.name + SIDECAR_SUFFIX)


@dataclass
class RenderResult:
    job: RenderJob
    image: Any  # PIL.Image.Image
    seed: int  # the seed actually used
    timings: dict[str, float] = field(default_factory=dict)  # load, encode, denoise, decode
    loaded_checkpoint: bool = False  # False when the pipeline was reused from the previous job


def job_from_resolved(resolved, config_dir: Path | None = None) -> RenderJob:
    """A RenderJob from a ``pantry.recipes.model.ResolvedRecipe`` whose assets were all found."""
    recipe = resolved.recipe
    checkpoint = _asset(resolved.checkpoint)
    identity = checkpoint.identity
    variant = identity.variant if identity.variant == "v_prediction" else identity.edition
    job = RenderJob(
        checkpoint=Path(checkpoint.path),
        base=checkpoint.base,
        checkpoint_format=checkpoint.format,
        variant=variant,
        config_dir=config_dir,
        clip_skip=recipe.clip_skip,
        emphasis=recipe.extra.get(EMPHASIS_KEY),
        prompt=recipe.prompt,
        negative_prompt=recipe.negative_prompt,
        width=recipe.width,
        height=recipe.height,
        steps=recipe.steps,
        cfg_scale=recipe.cfg_scale,
        sampler=recipe.sampler,
        scheduler=recipe.scheduler,
        seed=recipe.seed,
        name=recipe.name,
    )
    if resolved.vae is not None:
        vae = _asset(resolved.vae)
        job.vae = Path(vae.path)
        job.vae_format = vae.format
        job.vae_fp16_fix = bool(vae.identity.vae and vae.identity.vae.fp16_fix)
    for resolution in resolved.embeddings:
        # a missing one is an error: without it the image would not be the recipe's
        embedding = _asset(resolution)
        job.embeddings.append(EmbeddingJob(Path(embedding.path), resolution.ref))
    for resolution in resolved.loras:
        lora = _asset(resolution)
        spec = resolution.lora
        weight = spec.weight if spec else 1.0
        unet_weight = getattr(spec, "unet_weight", None)
        job.loras.append(LoraJob(Path(lora.path), weight, lora.name, unet_weight))
    return job


def _asset(resolution):
    if resolution.asset is None:
        detail = resolution.detail or resolution.problem or "not found"
        raise RenderError(f"{resolution.slot} {resolution.ref!r} is not available: {detail}")
    return resolution.asset
