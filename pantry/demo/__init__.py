"""The built-in demo: a generated model folder that looks like a real user's.

Every file is header-faithful (real key names, dtypes and shapes of published models, data
region left sparse), so the demo catalogue holds gigabytes on paper and almost nothing on disk.
"""

from __future__ import annotations

import gzip
import json
import pickle
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pantry.demo.sparse import Layout, write_sparse_safetensors

LAYOUT_DIR = Path(__file__).resolve().parent.parent / "data" / "layouts"
FLOAT_DTYPES = frozenset({"F64", "F32", "F16", "BF16"})


@dataclass(frozen=True)
class DemoAsset:
    folder: str  # A1111 layout folder under models/
    filename: str
    layout: str
    dtype: str | None = "F16"
    metadata: dict[str, str] = field(default_factory=dict)
    drop_prefixes: tuple[str, ...] = ()  # e.g. strip the VAE out of a checkpoint


def _tags(tags: dict[str, int]) -> str:
    return json.dumps({"10_dataset": tags})


DEMO_ASSETS: tuple[DemoAsset, ...] = (
    DemoAsset("Stable-diffusion", "realisticVisionV60.safetensors", "sd15_checkpoint"),
    DemoAsset(
        "Stable-diffusion",
        "animeDream_v3.safetensors",
        "sd15_checkpoint",
        metadata={
            "modelspec.sai_model_spec": "1.0.0",
            "modelspec.architecture": "stable-diffusion-v1",
            "modelspec.implementation": "sgm",
            "modelspec.title": "Anime Dream v3",
            "modelspec.tags": "anime, illustration",
            "modelspec.encoder_layer": "2",
        },
    ),
    DemoAsset("Stable-diffusion", "sdxl_base_1.0.safetensors", "sdxl_base_checkpoint"),
    DemoAsset(
        "Stable-diffusion",
        "ponyDiffusionV6XL.safetensors",
        "sdxl_base_checkpoint",
        metadata={
            "modelspec.sai_model_spec": "1.0.0",
            "modelspec.architecture": "stable-diffusion-xl-v1-base",
            "modelspec.implementation": "sgm",
            "modelspec.title": "Pony Diffusion V6 XL",
        },
    ),
    DemoAsset("Stable-diffusion", "sd_xl_refiner_1.0.safetensors", "sdxl_refiner_checkpoint"),
    DemoAsset(
        "Stable-diffusion",
        "sd15_noVAE_pruned.safetensors",
        "sd15_checkpoint",
        drop_prefixes=("first_stage_model.",),
    ),
    DemoAsset("Stable-diffusion", "sd15_inpainting.safetensors", "sd15_inpaint_checkpoint"),
    DemoAsset("VAE", "vae-ft-mse-840000-ema-pruned.safetensors", "sd_vae", dtype=None),
    DemoAsset("VAE", "sdxl_vae.safetensors", "sdxl_vae", dtype=None),
    DemoAsset("VAE", "sdxl-vae-fp16-fix.safetensors", "sdxl_vae", dtype=None),
    DemoAsset("VAE", "flux_ae.safetensors", "flux_vae", dtype="BF16"),
    DemoAsset(
        "Lora",
        "add_detail.safetensors",
        "kohya_sd15_lora",
        metadata={
            "ss_network_module": "networks.lora",
            "ss_network_dim": "16",
            "ss_network_alpha": "8",
            "ss_base_model_version": "sd_v1",
            "ss_output_name": "add_detail",
            "ss_sd_model_name": "v1-5-pruned-emaonly.safetensors",
            "ss_tag_frequency": _tags({"detailed": 40, "photo": 35, "realistic": 30}),
        },
    ),
    DemoAsset(
        "Lora",
        "detail_tweaker_xl.safetensors",
        "kohya_sdxl_lora",
        metadata={
            "ss_network_module": "networks.lora",
            "ss_network_dim": "32",
            "ss_network_alpha": "16",
            "ss_base_model_version": "sdxl_base_v1-0",
            "ss_output_name": "detail_tweaker_xl",
            "ss_sd_model_name": "sd_xl_base_1.0.safetensors",
        },
    ),
    DemoAsset(
        "Lora",
        "animeLineart_sd15.safetensors",
        "kohya_sd15_lora",
        metadata={
            "ss_network_module": "networks.lora",
            "ss_network_dim": "16",
            "ss_network_alpha": "8",
            "ss_base_model_version": "sd_v1",
            "ss_output_name": "animeLineart",
            "modelspec.trigger_phrase": "lineart",
            "ss_clip_skip": "2",
            "ss_sd_model_name": "animefull-final-pruned.ckpt",
            "ss_tag_frequency": _tags(
                {"lineart": 120, "1girl": 110, "monochrome": 90, "anime": 80, "solo": 75}
            ),
        },
    ),
    DemoAsset(
        "Lora",
        "flux_realism_lora.safetensors",
        "kohya_flux_lora",
        dtype="BF16",
        metadata={
            "ss_network_module": "networks.lora_flux",
            "ss_network_dim": "16",
            "ss_network_alpha": "16",
            "ss_base_model_version": "flux1",
            "ss_output_name": "flux_realism_lora",
        },
    ),
    DemoAsset("embeddings", "easynegative.safetensors", "embedding_sd15", dtype=None),
)


@cache
def _layout(name: str) -> dict:
    with gzip.open(LAYOUT_DIR / f"{name}.json.gz", "rt") as handle:
        return json.load(handle)


def layout_tensors(name: str, dtype: str | None = None) -> Layout:
    tensors = {k: (d, tuple(s)) for k, (d, s) in _layout(name)["tensors"].items()}
    if dtype:
        tensors = {k: (dtype if d in FLOAT_DTYPES else d, s) for k, (d, s) in tensors.items()}
    return tensors


def build_demo_folder(root: Path) -> list[Path]:
    """Write the demo model folder (A1111 layout) under ``root``; returns the files written."""
    models = root / "models"
    written = []
    for asset in DEMO_ASSETS:
        tensors = layout_tensors(asset.layout, asset.dtype)
        if asset.drop_prefixes:
            tensors = {k: v for k, v in tensors.items() if not k.startswith(asset.drop_prefixes)}
        path = models / asset.folder / asset.filename
        written.append(write_sparse_safetensors(path, tensors, asset.metadata or None))
    written.append(_write_unsafe_pickle(models / "Stable-diffusion" / "old_model.ckpt"))
    return written


class _ShellPayload:
    """A pickle that would run a shell command if anything ever unpickled it. pantry never does."""

    def __reduce__(self):
        import os

        return (os.system, ("echo this file would run code on load",))


def _write_unsafe_pickle(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # pickle.dumps only records the reduce call; nothing runs here or when pantry reads it.
    path.write_bytes(pickle.dumps({"state_dict": {}, "payload": _ShellPayload()}, protocol=2))
    return path
