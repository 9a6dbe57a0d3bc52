"""Write a diffusers pipeline as one A1111-layout ("LDM"/"SGM") single-file checkpoint.

diffusers ships only the LDM -> diffusers direction (``loaders/single_file_utils``). The names
come from ``pantry.identify.keymap``, which derives them from each component's config (so any
number of blocks and layers fits: the tiny test and demo models as well as full-size ones) and
whose tests check them against diffusers' own converters. This module only moves the tensors:
it reshapes the VAE attention projections and fuses OpenCLIP's q/k/v.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

from pantry.errors import RenderError
from pantry.identify import keymap

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
SD1_CLIP_PREFIX = keymap.CLIP_PREFIXES["sd1"]
SD2_OPEN_CLIP_PREFIX = keymap.OPENCLIP_PREFIXES["sd2"]
SDXL_CLIP_PREFIX = keymap.CLIP_PREFIXES["sdxl"]
SDXL_OPEN_CLIP_PREFIX = keymap.OPENCLIP_PREFIXES["sdxl"]
QKV_ORDER = ("q_proj", "k_proj", "v_proj")  # OpenCLIP's in_proj stacks them in this order


def pipeline_to_ldm(pipe) -> dict[str, torch.Tensor]:
    """The A1111 state dict of an SD1/SD2 or SDXL pipeline (by which text encoders it has)."""
    state: dict[str, torch.Tensor] = {}
    state.update(_prefixed(UNET_PREFIX, unet_to_ldm(pipe.unet)))
    state.update(_prefixed(VAE_PREFIX, vae_to_ldm(pipe.vae)))
    if getattr(pipe, "text_encoder_2", None) is not None:
        state.update(clip_to_ldm(pipe.text_encoder, SDXL_CLIP_PREFIX))
        state.update(_prefixed(SDXL_OPEN_CLIP_PREFIX, open_clip_to_ldm(pipe.text_encoder_2)))
    elif pipe.text_encoder.config.hidden_act == "gelu":  # OpenCLIP-H (SD2)
        state.update(_prefixed(SD2_OPEN_CLIP_PREFIX, open_clip_to_ldm(pipe.text_encoder)))
    else:
        state.update(clip_to_ldm(pipe.text_encoder, SD1_CLIP_PREFIX))
    return state


def save_single_file(pipe, path: str | Path, dtype: torch.dtype | None = None) -> Path:
    path = Path(path)
    state = {
        k: v.detach().to(dtype or v.dtype).contiguous() for k, v in pipeline_to_ldm(pipe).items()
    }
    save_file(state, str(path))
    return path


def unet_to_ldm(unet) -> dict[str, torch.Tensor]:
    state = unet.state_dict()
    names = keymap.unet_diffusers_to_original(state, unet.config)
    return {_mapped(names, key, "UNet"): value for key, value in state.items()}


def vae_to_ldm(vae) -> dict[str, torch.Tensor]:
    """AutoencoderKL -> LDM VAE names (``encoder.*``/``decoder.*``, no prefix)."""
    state = vae.state_dict()
    names = keymap.vae_diffusers_to_original(state, vae.config)
    out = {}
    for key, value in state.items():
        name = _mapped(names, key, "VAE")
        out[name] = value.reshape(keymap.vae_original_shape(name, tuple(value.shape)))
    return out


def clip_to_ldm(text_encoder, prefix: str) -> dict[str, torch.Tensor]:
    """transformers CLIPTextModel -> ``<prefix>text_model.*`` (A1111 files keep text_model)."""
    state = text_encoder.state_dict()
    names = keymap.clip_diffusers_to_original(state, prefix)
    return {names[key]: value for key, value in state.items()}


def open_clip_to_ldm(text_encoder) -> dict[str, torch.Tensor]:
    """transformers CLIP text model -> OpenCLIP names (fused q/k/v, transposed projection)."""
    out: dict[str, torch.Tensor] = {}
    fused: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in text_encoder.state_dict().items():
        name = keymap.openclip_to_original(key)
        if name is None:
            raise RenderError(f"text encoder weight {key!r} has no OpenCLIP name")
        if name.endswith(("in_proj_weight", "in_proj_bias")):
            part = next(p for p in QKV_ORDER if f".{p}." in key)
            fused.setdefault(name, {})[part] = value
        elif name == "text_projection":
            out[name] = value.T.contiguous()  # OpenCLIP multiplies from the other side
        else:
            out[name] = value
    for name, parts in fused.items():
        out[name] = torch.cat([parts[p] for p in QKV_ORDER])
    return out


def _mapped(names: dict[str, str | None], key: str, component: str) -> str:
    name = names[key]
    if name is None:  # a module the LDM layout has no place for: the file would be unloadable
        raise RenderError(f"{component} weight {key!r} has no name in the A1111 layout")
    return name


def _prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {prefix + k: v for k, v in state.items()}
