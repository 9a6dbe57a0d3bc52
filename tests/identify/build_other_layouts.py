"""Regenerate tests/identify/layouts/*.json.gz: the other files users keep in model folders.

    python tests/identify/build_other_layouts.py

Each layout comes from the real model class instantiated on the meta device (no weights, no
download) with the published config named beside it, so names and shapes are the library's
own. Deep transformers keep their real widths but only a few blocks: identification reads
widths and block names, never depth, and the fixtures stay small. AnimateDiff motion modules
are renamed back from diffusers' MotionAdapter names to the original checkpoint names
(the reverse of diffusers' ``convert_animatediff_motion_module_to_diffusers.py`` table).

Needs torch, diffusers and transformers (the render extra); the tests only read the output.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import torch
from diffusers import (
    AuraFlowTransformer2DModel,
    FluxControlNetModel,
    HunyuanDiT2DModel,
    Lumina2Transformer2DModel,
    MotionAdapter,
    T2IAdapter,
)
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

OUT = Path(__file__).resolve().parent / "layouts"

# laion/CLIP-ViT-H-14-laion2B-s32B-b79K vision tower (ComfyUI clip_vision, IP-Adapter encoder)
CLIP_VISION_H = dict(
    hidden_size=1280,
    intermediate_size=5120,
    num_hidden_layers=32,
    num_attention_heads=16,
    patch_size=14,
    image_size=224,
    projection_dim=1024,
)
# laion/CLIP-ViT-bigG-14-laion2B-39B-b160k vision tower (IP-Adapter SDXL encoder)
CLIP_VISION_BIGG = dict(
    hidden_size=1664,
    intermediate_size=8192,
    num_hidden_layers=48,
    num_attention_heads=16,
    patch_size=14,
    image_size=224,
    projection_dim=1280,
)
# guoyww/animatediff-motion-adapter-v1-5-2 (mm_sd_v15_v2.ckpt)
MOTION_SD15_V2 = dict(motion_max_seq_length=32, use_motion_mid_block=True)
# guoyww/animatediff-motion-adapter-sdxl-beta (mm_sdxl_v10_beta.ckpt)
MOTION_SDXL_BETA = dict(
    block_out_channels=(320, 640, 1280),
    motion_max_seq_length=32,
    use_motion_mid_block=False,
)
# TencentARC/t2iadapter_*_sd14v1 light variant (t2iadapter_color etc. use the full one)
T2I_LIGHT_SD15 = dict(
    in_channels=3,
    channels=[320, 640, 1280],
    num_res_blocks=4,
    downscale_factor=8,
    adapter_type="light_adapter",
)
# InstantX/FLUX.1-dev-Controlnet-Canny, config.json (5 double / 10 single blocks: 2 / 2 here)
FLUX_CONTROLNET_INSTANTX = dict(num_layers=2, num_single_layers=2, guidance_embeds=True)
# Tencent-Hunyuan/HunyuanDiT-v1.2-Diffusers, transformer/config.json (40 blocks: 2 here)
HUNYUAN_DIT = dict(
    num_layers=2,
    in_channels=4,
    sample_size=128,
    patch_size=2,
    cross_attention_dim=1024,
    cross_attention_dim_t5=2048,
    hidden_size=1408,
    num_attention_heads=16,
    text_len=77,
    text_len_t5=256,
)
# fal/AuraFlow-v0.3, transformer/config.json (4 joint / 32 single blocks: 2 / 2 here)
AURAFLOW = dict(num_mmdit_layers=2, num_single_dit_layers=2, sample_size=64)
# Alpha-VLLM/Lumina-Image-2.0, transformer/config.json (26 layers: 2 here)
LUMINA2 = dict(num_layers=2, hidden_size=2304, cap_feat_dim=2304, num_attention_heads=24)

_ORIGINAL_MOTION_NAMES = (
    (".attn1.", ".attention_blocks.0."),
    (".attn2.", ".attention_blocks.1."),
    (".norm1.", ".norms.0."),
    (".norm2.", ".norms.1."),
    (".norm3.", ".ff_norm."),
)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with torch.device("meta"):
        vision = CLIPVisionModelWithProjection
        _save("clip_vision_vit_h", vision(CLIPVisionConfig(**CLIP_VISION_H)), CLIP_VISION_H)
        _save(
            "clip_vision_vit_bigg", vision(CLIPVisionConfig(**CLIP_VISION_BIGG)), CLIP_VISION_BIGG
        )
        for name, config in (("sd15_v2", MOTION_SD15_V2), ("sdxl_beta", MOTION_SDXL_BETA)):
            tensors = _original_motion_names(_shapes(MotionAdapter(**config)))
            _write(f"motion_module_{name}", tensors, f"MotionAdapter({config}), original names")
        _save("t2i_adapter_light_sd15", T2IAdapter(**T2I_LIGHT_SD15), T2I_LIGHT_SD15)
        flux_cn = FluxControlNetModel(**FLUX_CONTROLNET_INSTANTX)
        _save("flux_controlnet_instantx", flux_cn, FLUX_CONTROLNET_INSTANTX)
        _save("hunyuan_dit_diffusers", HunyuanDiT2DModel(**HUNYUAN_DIT), HUNYUAN_DIT)
        _save("auraflow_diffusers", AuraFlowTransformer2DModel(**AURAFLOW), AURAFLOW)
        _save("lumina2_diffusers", Lumina2Transformer2DModel(**LUMINA2), LUMINA2)


def _shapes(model: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def _original_motion_names(tensors: dict[str, list[int]]) -> dict[str, list[int]]:
    out = {}
    for key, shape in tensors.items():
        key = re.sub(r"(motion_modules\.\d+\.)", r"\1temporal_transformer.", key)
        for new, old in _ORIGINAL_MOTION_NAMES:
            key = key.replace(new, old)
        if key.endswith(".pos_embed.pe"):
            # the original keeps one position table in each of the block's two attentions
            for attention in (0, 1):
                stem = key.removesuffix("pos_embed.pe")
                out[f"{stem}attention_blocks.{attention}.pos_encoder.pe"] = shape
            continue
        out[key] = shape
    return out


def _save(name: str, model: torch.nn.Module, config: dict) -> None:
    _write(name, _shapes(model), f"{type(model).__name__}({config}) on the meta device")


def _write(name: str, tensors: dict[str, list[int]], source: str) -> None:
    with gzip.open(OUT / f"{name}.json.gz", "wt") as f:
        json.dump({"source": source, "tensors": tensors}, f, sort_keys=True)


if __name__ == "__main__":
    main()
