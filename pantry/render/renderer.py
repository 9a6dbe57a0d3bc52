"""The renderer: RenderJob in, image out, with the recipe applied faithfully.

One Renderer keeps one pipeline loaded; jobs on the same checkpoint reuse it and only swap what
differs (LoRAs, VAE, scheduler). ``render_batch`` orders jobs so each checkpoint loads once.

Numerics that decide what comes out:
* seeds: the initial noise and every ancestral/SDE step draw from ``torch.Generator("cpu")``,
  so a seed gives the same image on any device (up to the device's float arithmetic);
* prompts are embedded by ``pantry.render.prompts`` (A1111 emphasis, chunking, clip skip and
  textual-inversion embeddings);
* the VAE decodes outside the pipeline: SDXL's VAE overflows in fp16, so it runs in fp32 unless
  the job says it is the fp16-fix VAE, and NaN latents or pixels raise RenderError.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

import torch

from pantry.errors import RenderError
from pantry.render.embeddings import TextualInversion, load_embedding
from pantry.render.job import EmbeddingJob, RenderJob, RenderResult
from pantry.render.loading import SDXL, load_own_vae, load_pipeline, load_vae
from pantry.render.loras import LoraState
from pantry.render.prompts import PromptEmbeddings, encode_sd, encode_sdxl
from pantry.render.quiet import quiet_libraries
from pantry.render.samplers import make_scheduler

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
DEVICES = ("auto", "cuda", "mps", "cpu")
MAX_SEED = 2**32  # A1111 seeds are 32-bit
SIZE_MULTIPLE = 8  # diffusers' SD and SDXL pipelines refuse other widths and heights

Progress = Callable[[int, int], None]  # (steps done, steps in total) for the current image


@dataclass
class _Loaded:
    key: tuple
    pipe: Any
    scheduler_config: dict
    own_vae: Any | None  # None when the pipeline was loaded with an override VAE
    vaes: dict[Path, Any] = field(default_factory=dict)
    loras: LoraState = field(default_factory=LoraState)
    embeddings: dict[EmbeddingJob, TextualInversion] = field(default_factory=dict)


class Renderer:
    """Renders RenderJobs with diffusers on one device."""

    def __init__(self, device: str = "auto", dtype: str = "auto"):
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self._loaded: _Loaded | None = None

    @property
    def dtype_name(self) -> str:
        """The render precision in lint's words ("fp16", "bf16", "fp32")."""
        return {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(self.dtype, "fp32")

    def render(self, job: RenderJob, progress: Progress | None = None) -> RenderResult:
        with quiet_libraries():
            return self._render(job, progress)

    def _render(self, job: RenderJob, progress: Progress | None) -> RenderResult:
        check_size(job)  # before loading anything: the pipeline would refuse it at the end
        timings: dict[str, float] = {}
        start = perf_counter()
        loaded_checkpoint = self._prepare(job)
        timings["load"] = perf_counter() - start
        pipe = self._loaded.pipe
        seed = job.seed if job.seed >= 0 else secrets.randbelow(MAX_SEED)

        start = perf_counter()
        embeddings = self._encode(pipe, job)
        timings["encode"] = perf_counter() - start

        start = perf_counter()
        latents = self._denoise(pipe, job, embeddings, seed, progress)
        timings["denoise"] = perf_counter() - start
        if not torch.isfinite(latents).all():
            raise RenderError(f"{job.checkpoint}: denoising produced NaN {self._nan_hint()}")

        start = perf_counter()
        image = decode(pipe, latents)
        timings["decode"] = perf_counter() - start
        return RenderResult(job, image, seed, timings, loaded_checkpoint)

    def render_batch(
        self, jobs: Iterable[RenderJob], progress: Progress | None = None
    ) -> Iterator[tuple[int, RenderResult]]:
        """Render jobs grouped by checkpoint; yields (index in ``jobs``, result)."""
        for index, job in batch_order(list(jobs)):
            yield index, self.render(job, progress)

    def _nan_hint(self) -> str:
        if self.dtype != torch.float32:
            return "(try --dtype fp32)"
        return "even in fp32 (broken weights in the checkpoint, a LoRA or an embedding?)"

    def close(self) -> None:
        self._loaded = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    # -- preparing the pipeline ------------------------------------------------------------

    def _prepare(self, job: RenderJob) -> bool:
        """Make the loaded pipeline match the job; True when the checkpoint had to be loaded."""
        key = checkpoint_key(job)
        loaded_now = self._loaded is None or self._loaded.key != key
        if loaded_now:
            self._loaded = None  # free the previous checkpoint before reading the next
            override = self._load_vae(job) if job.vae else None
            pipe = load_pipeline(job, self.dtype, vae=override)
            pipe.set_progress_bar_config(disable=True)
            pipe.to(self.device)
            own_vae = None if override is not None else self._place_vae(pipe.vae, job, False)
            self._loaded = _Loaded(key, pipe, dict(pipe.scheduler.config), own_vae)
            if override is not None:
                self._loaded.vaes[job.vae] = override
        self._swap_vae(job)
        self._loaded.loras.apply(self._loaded.pipe, job.loras)
        self._loaded.pipe.scheduler = make_scheduler(
            self._loaded.scheduler_config, job.sampler, job.scheduler
        )
        return loaded_now

    def _swap_vae(self, job: RenderJob) -> None:
        loaded = self._loaded
        if job.vae is None:
            if loaded.own_vae is None:
                loaded.own_vae = self._place_vae(load_own_vae(job, self.dtype), job, fp16_fix=False)
            vae = loaded.own_vae
        else:
            if job.vae not in loaded.vaes:
                loaded.vaes[job.vae] = self._load_vae(job)
            vae = loaded.vaes[job.vae]
        loaded.pipe.vae = vae

    def _load_vae(self, job: RenderJob):
        vae = load_vae(job.vae, job.vae_format, job.base, job.variant, self.dtype)
        return self._place_vae(vae, job, fp16_fix=job.vae_fp16_fix)

    def _place_vae(self, vae, job: RenderJob, fp16_fix: bool):
        dtype = self.dtype
        if job.base == SDXL and dtype != torch.float32 and not fp16_fix:
            dtype = torch.float32  # the SDXL VAE overflows in half precision (black images)
        if fp16_fix:
            vae.register_to_config(force_upcast=False)
        # cast only when needed: diffusers warns on every dtype cast, even a no-op one
        return vae.to(self.device) if vae.dtype == dtype else vae.to(self.device, dtype)

    # -- one image -------------------------------------------------------------------------

    def _encode(self, pipe, job: RenderJob) -> PromptEmbeddings:
        if job.base == SDXL:
            encoders = [pipe.text_encoder, pipe.text_encoder_2]
            return encode_sdxl(
                [pipe.tokenizer, pipe.tokenizer_2],
                encoders,
                job.prompt,
                job.negative_prompt,
                job.clip_skip,
                self._textual_inversions(job, encoders),
                job.emphasis,
            )
        return encode_sd(
            pipe.tokenizer,
            pipe.text_encoder,
            job.prompt,
            job.negative_prompt,
            job.clip_skip,
            self._textual_inversions(job, [pipe.text_encoder]),
            job.emphasis,
        )

    def _textual_inversions(self, job: RenderJob, encoders) -> list[TextualInversion]:
        """The job's embeddings, read once per loaded checkpoint (they are checked against it)."""
        cache = self._loaded.embeddings
        widths = [encoder.get_input_embeddings().embedding_dim for encoder in encoders]
        for embedding in job.embeddings:
            if embedding not in cache:
                cache[embedding] = load_embedding(embedding.path, embedding.name, widths)
        return [cache[embedding] for embedding in job.embeddings]

    def _denoise(self, pipe, job, embeddings, seed: int, progress: Progress | None):
        generator = torch.Generator("cpu").manual_seed(seed)

        def on_step_end(_pipe, step, _timestep, callback_kwargs):
            if progress is not None:
                progress(step + 1, job.steps)
            return callback_kwargs

        with torch.inference_mode():
            output = pipe(
                **embeddings.pipeline_kwargs(),
                width=job.width,
                height=job.height,
                num_inference_steps=job.steps,
                guidance_scale=job.cfg_scale,
                generator=generator,
                output_type="latent",
                callback_on_step_end=on_step_end,
            )
        return output.images


def decode(pipe, latents: torch.Tensor):
    """Latents -> PIL image with the pipeline's VAE in that VAE's own dtype."""
    vae = pipe.vae
    config = vae.config
    latents = latents.to(vae.device, vae.dtype)
    mean = getattr(config, "latents_mean", None)
    std = getattr(config, "latents_std", None)
    if mean is not None and std is not None:  # VAEs that normalise their latent channels
        mean = torch.tensor(mean).view(1, -1, 1, 1).to(latents)
        std = torch.tensor(std).view(1, -1, 1, 1).to(latents)
        latents = latents * std / config.scaling_factor + mean
    else:
        latents = latents / config.scaling_factor
    with torch.inference_mode():
        pixels = vae.decode(latents, return_dict=False)[0]
    if not torch.isfinite(pixels).all():
        raise RenderError(
            "the VAE produced NaN: an SDXL VAE in fp16 overflows; "
            "use the fp16-fix VAE or --dtype fp32"
        )
    return pipe.image_processor.postprocess(pixels.float(), output_type="pil")[0]


def check_size(job: RenderJob) -> None:
    bad = [n for n in (job.width, job.height) if n <= 0 or n % SIZE_MULTIPLE]
    if bad:
        fixed = "x".join(
            str(max(SIZE_MULTIPLE, n - n % SIZE_MULTIPLE)) for n in (job.width, job.height)
        )
        raise RenderError(
            f"size {job.width}x{job.height}: width and height must be multiples of "
            f"{SIZE_MULTIPLE}; try {fixed}"
        )


def batch_order(jobs: list[RenderJob]) -> list[tuple[int, RenderJob]]:
    """Jobs grouped by checkpoint (first appearance order), original order within a group."""
    first_seen: dict[tuple, int] = {}
    for job in jobs:
        first_seen.setdefault(checkpoint_key(job), len(first_seen))
    indexed = list(enumerate(jobs))
    return sorted(indexed, key=lambda item: (first_seen[checkpoint_key(item[1])], item[0]))


def checkpoint_key(job: RenderJob) -> tuple:
    return (job.checkpoint, job.checkpoint_format, job.base, job.variant, job.config_dir)


def pick_device(name: str) -> torch.device:
    if name not in DEVICES:
        raise RenderError(f"unknown device {name!r}; use one of {', '.join(DEVICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
        "cpu": True,
    }
    if not available[name]:
        raise RenderError(f"device {name!r} is not available on this machine")
    return torch.device(name)


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        # half precision where it is fast; CPUs compute fp16 slowly and sometimes not at all
        return torch.float32 if device.type == "cpu" else torch.float16
    if name not in DTYPES:
        raise RenderError(f"unknown dtype {name!r}; use auto, {', '.join(DTYPES)}")
    return DTYPES[name]
