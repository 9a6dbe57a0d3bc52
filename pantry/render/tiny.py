"""Tiny random-weight SD1 and SDXL pipelines with the real CLIP tokenizer, for the demo and tests.

They have every component a real checkpoint has, with a handful of channels: a 64x64 render
takes a fraction of a second on a CPU. The SDXL text encoders have different widths (32 and
48), as in the real model (768 and 1280): with equal widths diffusers' single-file loader
mistakes one encoder for the other.
"""

from __future__ import annotations

import torch

from pantry.render.bundled import config_dir, load_tokenizer

BOS, EOS, OPEN_CLIP_PAD_ID = 49406, 49407, 0

TINY_TEXT = {
    "vocab_size": 49408,
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_attention_heads": 4,
    "num_hidden_layers": 5,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "bos_token_id": BOS,
    "eos_token_id": EOS,
    "pad_token_id": EOS,
    "projection_dim": 32,
}
TINY_TEXT_2 = {
    **TINY_TEXT,
    "hidden_size": 48,
    "hidden_act": "gelu",
    "pad_token_id": OPEN_CLIP_PAD_ID,
    "projection_dim": 16,
}
TINY_VAE = {
    "block_out_channels": (8, 16, 16, 16),  # four levels: latents are 1/8 of the image, as in SD
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "layers_per_block": 1,
    "latent_channels": 4,
    "norm_num_groups": 8,
    "sample_size": 64,
}
TINY_UNET = {
    "block_out_channels": (32, 64),
    "layers_per_block": 1,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
    "attention_head_dim": 8,
    "norm_num_groups": 8,
    "sample_size": 8,
    "in_channels": 4,
    "out_channels": 4,
}
TINY_SDXL_TIME_DIM = 8


def tiny_vae(seed: int = 0, sdxl: bool = False):
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    extra = {"scaling_factor": 0.13025, "force_upcast": True} if sdxl else {}
    return AutoencoderKL(**TINY_VAE, **extra).eval()


def tiny_sd1(seed: int = 0):
    """A StableDiffusionPipeline in the SD1 layout (one CLIP-L-style text encoder)."""
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**TINY_UNET, cross_attention_dim=TINY_TEXT["hidden_size"])
    text_encoder = CLIPTextModel(CLIPTextConfig(**TINY_TEXT))
    return StableDiffusionPipeline(
        vae=tiny_vae(seed + 1),
        text_encoder=text_encoder.eval(),
        tokenizer=load_tokenizer(),
        unet=unet.eval(),
        scheduler=_scheduler("sd1"),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def tiny_sdxl(seed: int = 0):
    """A StableDiffusionXLPipeline in the SDXL layout (CLIP-L-style + OpenCLIP-style encoders)."""
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        **TINY_UNET,
        cross_attention_dim=TINY_TEXT["hidden_size"] + TINY_TEXT_2["hidden_size"],
        addition_embed_type="text_time",
        addition_time_embed_dim=TINY_SDXL_TIME_DIM,
        # six micro-conditioning numbers (sizes, crop) plus the pooled second-encoder embedding
        projection_class_embeddings_input_dim=6 * TINY_SDXL_TIME_DIM
        + TINY_TEXT_2["projection_dim"],
        use_linear_projection=True,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(**TINY_TEXT))
    text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**TINY_TEXT_2))
    return StableDiffusionXLPipeline(
        vae=tiny_vae(seed + 1, sdxl=True),
        text_encoder=text_encoder.eval(),
        text_encoder_2=text_encoder_2.eval(),
        tokenizer=load_tokenizer(),
        tokenizer_2=load_tokenizer(open_clip=True),
        unet=unet.eval(),
        scheduler=_scheduler("sdxl"),
    )


def _scheduler(base: str):
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler.from_pretrained(str(config_dir(base)), subfolder="scheduler")
