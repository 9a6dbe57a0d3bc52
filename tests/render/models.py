"""Model files for the renderer tests, built from tiny random-weight pipelines.

Each tiny checkpoint is written twice: as a diffusers folder and as an A1111-layout single
file (with its ``.config.json`` sidecar, since the bundled configs are full-size). LoRAs are
written in kohya's naming from the modules the model really has.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from pantry.identify.keymap import unet_diffusers_to_original
from pantry.render.ldm_export import save_single_file, vae_to_ldm
from pantry.render.loading import write_sidecar
from pantry.render.tiny import tiny_sd1, tiny_sdxl, tiny_vae

LORA_RANK = 4
# kohya's prefix per pipeline component; its text-encoder names keep transformers' text_model
KOHYA_PREFIX = {"unet": "lora_unet_", "text_encoder": "lora_te_", "text_encoder_2": "lora_te2_"}
KOHYA_SDXL_PREFIX = {**KOHYA_PREFIX, "text_encoder": "lora_te1_"}
LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "q_proj", "k_proj", "v_proj", "out_proj")


@dataclass
class TinyModel:
    base: str
    folder: Path
    single_file: Path
    pipe: object


def write_tiny(directory: Path, base: str, seed: int = 0) -> TinyModel:
    pipe = tiny_sd1(seed) if base == "sd1" else tiny_sdxl(seed)
    folder = directory / f"tiny_{base}"
    pipe.save_pretrained(folder)
    single = save_single_file(pipe, directory / f"tiny_{base}.safetensors")
    write_sidecar(folder, single)
    return TinyModel(base, folder, single, pipe)


def write_vae(directory: Path, seed: int, sdxl: bool = False) -> tuple[Path, Path]:
    """Another VAE, as a diffusers folder and as an A1111 VAE file (encoder.*/decoder.*)."""
    vae = tiny_vae(seed, sdxl=sdxl)
    folder = directory / f"vae_{seed}"
    vae.save_pretrained(folder)
    single = directory / f"vae_{seed}.safetensors"
    save_file({k: v.contiguous() for k, v in vae_to_ldm(vae).items()}, str(single))
    write_sidecar(folder, single)
    return folder, single


def write_kohya_lora(pipe, path: Path, seed: int, scale: float = 0.5, sdxl: bool = False) -> Path:
    """A kohya LoRA over every attention projection of the UNet and text encoder(s).

    SD1 LoRAs name UNet modules the diffusers way, SDXL ones the SGM way (input_blocks...),
    as kohya's scripts do.
    """
    unet_keys = pipe.unet.state_dict()
    ldm_names = unet_diffusers_to_original(unet_keys, pipe.unet.config) if sdxl else {}
    generator = torch.Generator().manual_seed(seed)
    prefixes = KOHYA_SDXL_PREFIX if sdxl else KOHYA_PREFIX
    tensors = {}
    for component, prefix in prefixes.items():
        model = getattr(pipe, component, None)
        if model is None:
            continue
        encoder = component != "unet"
        for name, module in model.named_modules():
            if not isinstance(module, torch.nn.Linear) or not name.endswith(LORA_TARGETS):
                continue
            full = "text_model." + name.removeprefix("text_model.") if encoder else name
            full = ldm_names.get(full + ".weight", full + ".weight").removesuffix(".weight")
            key = prefix + full.replace(".", "_")
            out_features, in_features = module.weight.shape
            down = torch.randn(LORA_RANK, in_features, generator=generator) * scale
            up = torch.randn(out_features, LORA_RANK, generator=generator) * scale
            tensors[f"{key}.lora_down.weight"] = down
            tensors[f"{key}.lora_up.weight"] = up
            tensors[f"{key}.alpha"] = torch.tensor(float(LORA_RANK))
    save_file(tensors, str(path))
    return path


def write_unmatched_lora(path: Path) -> Path:
    """A well-formed kohya LoRA whose modules no tiny model has."""
    save_file(_unmatched_module(), str(path))
    return path


def write_partly_matching_lora(pipe, path: Path) -> Path:
    """A kohya LoRA for the pipeline, plus one module the pipeline does not have."""
    write_kohya_lora(pipe, path, seed=3)
    save_file({**load_file(str(path)), **_unmatched_module()}, str(path))
    return path


def _unmatched_module() -> dict[str, torch.Tensor]:
    key = "lora_unet_up_blocks_7_attentions_3_transformer_blocks_0_attn1_to_q"
    return {
        f"{key}.lora_down.weight": torch.ones(LORA_RANK, 32),
        f"{key}.lora_up.weight": torch.ones(32, LORA_RANK),
        f"{key}.alpha": torch.tensor(float(LORA_RANK)),
    }


def write_embedding(stem: Path, fmt: str, widths: list[int], vectors: int, seed: int = 0) -> Path:
    """A textual-inversion file with random vectors, in one of the layouts users meet.

    ``safetensors``: A1111's ``emb_params``; ``a1111_pt``: A1111's pickled ``string_to_param``
    dict; ``sdxl``: ``clip_l`` and ``clip_g`` (``widths`` gives both).
    """
    generator = torch.Generator().manual_seed(seed)
    sets = [torch.randn(vectors, width, generator=generator) for width in widths]
    if fmt == "sdxl":
        path = stem.with_suffix(".safetensors")
        save_file(dict(zip(("clip_l", "clip_g"), sets, strict=True)), str(path))
    elif fmt == "a1111_pt":
        path = stem.with_suffix(".pt")
        data = {"string_to_token": {"*": 265}, "string_to_param": {"*": sets[0]}}
        torch.save({**data, "name": stem.name, "step": 100}, path)
    else:
        path = stem.with_suffix(".safetensors")
        save_file({"emb_params": sets[0]}, str(path))
    return path


def build_all(directory: Path | None = None) -> dict[str, object]:
    directory = Path(directory or tempfile.mkdtemp(prefix="pantry-render-tests-"))
    sd1 = write_tiny(directory, "sd1")
    sdxl = write_tiny(directory, "sdxl")
    return {
        "dir": directory,
        "sd1": sd1,
        "sdxl": sdxl,
        "vae_sd1": write_vae(directory, seed=7),
        "lora_sd1": write_kohya_lora(sd1.pipe, directory / "kohya_sd1.safetensors", seed=1),
        "lora_sdxl": write_kohya_lora(
            sdxl.pipe, directory / "kohya_sdxl.safetensors", seed=2, sdxl=True
        ),
        "lora_unmatched": write_unmatched_lora(directory / "unmatched.safetensors"),
        "lora_partial": write_partly_matching_lora(sd1.pipe, directory / "partial.safetensors"),
    }
