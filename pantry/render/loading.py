"""Load checkpoints and VAEs from local files only, with the bundled configs.

Single files (A1111 layout, safetensors or pickle) go through ``from_single_file`` with
``config=`` pointing at a local folder, which keeps diffusers off the Hub without
``HF_HUB_OFFLINE``; diffusers folders go through ``from_pretrained(local_files_only=True)``.
The folder is, in order: the job's ``config_dir``, a ``<checkpoint>.config.json`` sidecar
(configs for an architecture pantry does not bundle, written out to a temporary folder), or the
bundled config for the checkpoint's base.
"""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path

import torch

from pantry.errors import RenderError
from pantry.render.bundled import config_dir as bundled_config_dir
from pantry.render.bundled import load_tokenizer
from pantry.render.job import DIFFUSERS_FORMAT, SIDECAR_SUFFIX, RenderJob

SDXL = "sdxl"
# diffusers' SingleFileComponentError says "Failed to load <class>. Weights for this component
# appear to be missing"; what a user can do about each missing component:
MISSING_COMPONENT_ERROR = "appear to be missing in the checkpoint"
MISSING_COMPONENTS = {
    "AutoencoderKL": "it holds no VAE weights; name a VAE in the recipe (vae = ...)",
    "CLIPTextModel": "it holds no text encoder weights (a UNet-only file is not a checkpoint)",
    "CLIPTextModelWithProjection": "it holds no second text encoder weights",
    "UNet2DConditionModel": "it holds no UNet weights",
}


def pipeline_class(base: str):
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    return StableDiffusionXLPipeline if base == SDXL else StableDiffusionPipeline


def load_pipeline(job: RenderJob, dtype: torch.dtype, vae=None):
    """The checkpoint's pipeline; ``vae`` replaces the checkpoint's own (which is then not read)."""
    cls = pipeline_class(job.base)
    components = {} if vae is None else {"vae": vae}
    if job.base != SDXL:
        components.update(safety_checker=None, feature_extractor=None)
    try:
        if _is_folder(job.checkpoint, job.checkpoint_format):
            return cls.from_pretrained(
                str(job.checkpoint), local_files_only=True, dtype=dtype, **components
            )
        config = checkpoint_config_dir(job)
        components["tokenizer"] = load_tokenizer()
        if job.base == SDXL:
            components["tokenizer_2"] = load_tokenizer(open_clip=True)
        return cls.from_single_file(
            str(job.checkpoint),
            config=str(config),
            local_files_only=True,
            dtype=dtype,
            **components,
        )
    except RenderError:
        raise
    except Exception as error:  # diffusers/transformers/safetensors raise many kinds
        message = f"{job.checkpoint}: could not load the checkpoint: {_load_problem(error)}"
        raise RenderError(message) from error


def load_vae(path: Path, fmt: str, base: str, variant: str | None, dtype: torch.dtype):
    from diffusers import AutoencoderKL

    try:
        if _is_folder(path, fmt):
            return AutoencoderKL.from_pretrained(str(path), local_files_only=True, dtype=dtype)
        config, subfolder = bundled_config_dir(base, variant), "vae"
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        if sidecar.is_file():
            config = _materialize_sidecar(sidecar)
            subfolder = "vae" if (config / "vae").is_dir() else None
        return AutoencoderKL.from_single_file(
            str(path), config=str(config), subfolder=subfolder, local_files_only=True, dtype=dtype
        )
    except Exception as error:
        raise RenderError(f"{path}: could not load the VAE: {_first_line(error)}") from error


def load_own_vae(job: RenderJob, dtype: torch.dtype):
    """The checkpoint's own VAE alone (when the pipeline was first loaded with another one)."""
    fmt = job.checkpoint_format
    if _is_folder(job.checkpoint, fmt):
        return load_vae(job.checkpoint / "vae", fmt, job.base, job.variant, dtype)
    from diffusers import AutoencoderKL

    try:
        return AutoencoderKL.from_single_file(
            str(job.checkpoint),
            config=str(checkpoint_config_dir(job)),
            subfolder="vae",
            local_files_only=True,
            dtype=dtype,
        )
    except Exception as error:
        raise RenderError(
            f"{job.checkpoint}: the checkpoint's own VAE could not be loaded "
            f"({_first_line(error)}); name a VAE in the recipe"
        ) from error


def checkpoint_config_dir(job: RenderJob) -> Path:
    if job.config_dir is not None:
        return job.config_dir
    if job.sidecar_config.is_file():
        return _materialize_sidecar(job.sidecar_config)
    return bundled_config_dir(job.base, job.variant)


def write_sidecar(config_folder: Path, checkpoint: Path) -> Path:
    """Pack a diffusers config folder's (pipeline or single model) JSON files into a sidecar."""
    files = {}
    for path in sorted(config_folder.rglob("*.json")):
        relative = path.relative_to(config_folder)
        if not relative.parts[0].startswith("tokenizer"):  # tokenizers are bundled
            files[str(relative)] = json.loads(path.read_text())
    target = checkpoint.with_name(checkpoint.name + SIDECAR_SUFFIX)
    target.write_text(json.dumps(files, indent=1, sort_keys=True))
    return target


@cache
def _materialize_sidecar(sidecar: Path) -> Path:
    try:
        files = json.loads(sidecar.read_text())
    except (OSError, ValueError) as error:
        raise RenderError(f"{sidecar}: unreadable config sidecar: {error}") from error
    folder = Path(tempfile.mkdtemp(prefix="pantry-config-"))
    for relative, content in files.items():
        target = folder / relative
        if folder not in target.resolve().parents:
            raise RenderError(f"{sidecar}: config sidecar names a path outside its folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content))
    return folder


def _is_folder(path: Path, fmt: str) -> bool:
    return fmt == DIFFUSERS_FORMAT or path.is_dir()


def _load_problem(error: BaseException) -> str:
    text = str(error)
    if MISSING_COMPONENT_ERROR in text:
        for component, meaning in MISSING_COMPONENTS.items():
            if f"load {component}." in text:
                return meaning
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
