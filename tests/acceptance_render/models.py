"""A tiny SD1 model and LoRA files for the acceptance tests, built here from diffusers configs.

Built independently of ``pantry.render.tiny`` and ``tests/render`` so that these tests check
the renderer against models it did not make: two cross-attention levels with two layers each,
a 40-wide three-layer text encoder.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from pantry.render.bundled import TOKENIZER_DIR
from pantry.render.ldm_export import save_single_file

RANK = 4
TEXT_WIDTH = 40
VAE_PREFIX = "first_stage_model."


def tiny_pipeline(seed: int = 10):
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 32),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D",) * 2,
        up_block_types=("CrossAttnUpBlock2D",) * 2,
        attention_head_dim=8,
        norm_num_groups=8,
        sample_size=8,
        cross_attention_dim=TEXT_WIDTH,
    )
    text = CLIPTextConfig(
        vocab_size=49408,
        hidden_size=TEXT_WIDTH,
        intermediate_size=80,
        num_attention_heads=4,
        num_hidden_layers=3,
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        bos_token_id=49406,
        eos_token_id=49407,
        pad_token_id=49407,
    )
    vae = AutoencoderKL(
        block_out_channels=(16, 16, 32, 32),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=64,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )
    return StableDiffusionPipeline(
        vae=vae.eval(),
        text_encoder=CLIPTextModel(text).eval(),
        tokenizer=CLIPTokenizer.from_pretrained(str(TOKENIZER_DIR)),
        unet=unet.eval(),
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def write_single_file(pipe, folder: Path, path: Path, without_vae: bool = False) -> Path:
    """An A1111-layout file with its ``.config.json`` sidecar (the configs are not stock)."""
    save_single_file(pipe, path)
    if without_vae:
        state = load_file(str(path))
        save_file({k: v for k, v in state.items() if not k.startswith(VAE_PREFIX)}, str(path))
    configs = {
        str(p.relative_to(folder)): json.loads(p.read_text())
        for p in folder.rglob("*.json")
        if not p.relative_to(folder).parts[0].startswith("tokenizer")
    }
    path.with_name(path.name + ".config.json").write_text(json.dumps(configs))
    return path


def linear_modules(pipe, component: str, endings: tuple[str, ...]):
    model = getattr(pipe, component)
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and name.endswith(endings):
            yield name, module


def write_lora(pipe, path: Path, fmt: str, seed: int = 1) -> Path:
    """A LoRA over the UNet's attention projections: ``kohya``, ``loha`` or ``lokr``, or
    ``kohya_te_qkv`` (kohya with text-encoder q/k/v only, no out_proj or MLP)."""
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.randn(*shape, generator=generator) * 0.3

    tensors = {}
    components = [("unet", "lora_unet_", ("to_q", "to_v"))]
    if fmt == "kohya_te_qkv":
        components.append(("text_encoder", "lora_te_", ("q_proj", "k_proj", "v_proj")))
    for component, prefix, endings in components:
        for name, module in linear_modules(pipe, component, endings):
            full = name if component == "unet" else "text_model." + name
            key = prefix + full.replace(".", "_")
            out_features, in_features = module.weight.shape
            if fmt == "loha":
                tensors[f"{key}.hada_w1_a"] = rand(out_features, RANK)
                tensors[f"{key}.hada_w1_b"] = rand(RANK, in_features)
                tensors[f"{key}.hada_w2_a"] = rand(out_features, RANK)
                tensors[f"{key}.hada_w2_b"] = rand(RANK, in_features)
            elif fmt == "lokr":
                tensors[f"{key}.lokr_w1"] = rand(RANK, RANK)
                tensors[f"{key}.lokr_w2"] = rand(out_features // RANK, in_features // RANK)
            else:
                tensors[f"{key}.lora_down.weight"] = rand(RANK, in_features)
                tensors[f"{key}.lora_up.weight"] = rand(out_features, RANK)
            tensors[f"{key}.alpha"] = torch.tensor(float(RANK))
    save_file(tensors, str(path))
    return path
