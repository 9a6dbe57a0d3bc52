"""Small hand-built headers with the decisive keys of each architecture (real names/shapes).

The full layouts in ``tests/fixtures/modelfiles.py`` exercise whole files; these keep each test
about one signal.
"""

from __future__ import annotations

from pathlib import Path

from pantry.formats.header import Header, TensorInfo

Spec = dict[str, tuple[int, ...]]


def header(
    *parts: Spec,
    metadata: dict[str, str] | None = None,
    name: str = "model.safetensors",
    dtype: str = "F16",
    extras: dict | None = None,
    unsafe: list[str] | None = None,
    fmt: str = "safetensors",
) -> Header:
    tensors: dict[str, TensorInfo] = {}
    for part in parts:
        for key, shape in part.items():
            tensors[key] = TensorInfo(dtype, tuple(shape))
    return Header(
        path=Path(name),
        format=fmt,
        file_size=1,
        tensors=tensors,
        metadata=dict(metadata or {}),
        extras=dict(extras or {}),
        unsafe_globals=list(unsafe or []),
    )


def prefixed(prefix: str, spec: Spec) -> Spec:
    return {prefix + k: v for k, v in spec.items()}


def ldm_unet(context: int, in_channels: int = 4, xl: bool = False) -> Spec:
    """An LDM/SGM UNet (keys without prefix): SD1/SD2 attend at level 0, SDXL from level 1."""
    block = "input_blocks.4.1" if xl else "input_blocks.1.1"
    spec: Spec = {
        "input_blocks.0.0.weight": (320, in_channels, 3, 3),
        "input_blocks.0.0.bias": (320,),
        f"{block}.transformer_blocks.0.attn2.to_k.weight": (640 if xl else 320, context),
        f"{block}.transformer_blocks.0.attn2.to_q.weight": (640 if xl else 320, 640 if xl else 320),
        "middle_block.1.transformer_blocks.0.attn2.to_k.weight": (1280, context),
        "out.2.weight": (4, 320, 3, 3),
        "out.2.bias": (4,),
    }
    if xl:
        spec["label_emb.0.0.weight"] = (1280, 2816 if context == 2048 else 2560)
        spec["input_blocks.4.1.transformer_blocks.1.attn2.to_k.weight"] = (640, context)
    return spec


def ldm_vae(latent: int = 4, quant: bool = True) -> Spec:
    spec: Spec = {
        "encoder.conv_in.weight": (128, 3, 3, 3),
        "encoder.conv_out.weight": (2 * latent, 512, 3, 3),
        "decoder.conv_in.weight": (512, latent, 3, 3),
        "decoder.conv_out.weight": (3, 128, 3, 3),
        "decoder.up.0.block.0.conv1.weight": (128, 256, 3, 3),
    }
    if quant:
        spec["quant_conv.weight"] = (2 * latent, 2 * latent, 1, 1)
        spec["post_quant_conv.weight"] = (latent, latent, 1, 1)
    return spec


def clip_l(width: int = 768, layers: int = 12) -> Spec:
    spec: Spec = {
        "text_model.embeddings.token_embedding.weight": (49408, width),
        "text_model.embeddings.position_embedding.weight": (77, width),
        "text_model.final_layer_norm.weight": (width,),
    }
    for i in range(layers):
        spec[f"text_model.encoder.layers.{i}.self_attn.q_proj.weight"] = (width, width)
    return spec


def openclip(width: int, layers: int = 2) -> Spec:
    spec: Spec = {
        "token_embedding.weight": (49408, width),
        "positional_embedding": (77, width),
        "ln_final.weight": (width,),
    }
    for i in range(layers):
        spec[f"transformer.resblocks.{i}.attn.in_proj_weight"] = (3 * width, width)
    return spec


def sd1_checkpoint(in_channels: int = 4) -> Header:
    return header(
        prefixed("model.diffusion_model.", ldm_unet(768, in_channels)),
        prefixed("first_stage_model.", ldm_vae()),
        prefixed("cond_stage_model.transformer.", clip_l()),
    )


def sdxl_checkpoint(**kwargs) -> Header:
    return header(
        prefixed("model.diffusion_model.", ldm_unet(2048, xl=True)),
        prefixed("first_stage_model.", ldm_vae()),
        prefixed("conditioner.embedders.0.transformer.", clip_l()),
        prefixed("conditioner.embedders.1.model.", openclip(1280)),
        **kwargs,
    )


def flux_transformer(guidance: bool = True, img_in: int = 64) -> Spec:
    spec: Spec = {
        "img_in.weight": (3072, img_in),
        "txt_in.weight": (3072, 4096),
        "double_blocks.0.img_attn.norm.key_norm.scale": (128,),
        "double_blocks.0.img_attn.qkv.weight": (9216, 3072),
        "single_blocks.0.linear1.weight": (21504, 3072),
        "final_layer.linear.weight": (64, 3072),
    }
    if guidance:
        spec["guidance_in.in_layer.weight"] = (3072, 256)
    return spec


def kohya_lora(modules: dict[str, tuple[int, int]], rank: int = 8, dora: bool = False) -> Spec:
    """{module name: (out, in)} -> kohya lora_down/lora_up/alpha tensors."""
    spec: Spec = {}
    for name, (out_features, in_features) in modules.items():
        spec[f"{name}.lora_down.weight"] = (rank, in_features)
        spec[f"{name}.lora_up.weight"] = (out_features, rank)
        spec[f"{name}.alpha"] = ()
        if dora:
            spec[f"{name}.dora_scale"] = (1, out_features)
    return spec


def peft_lora(modules: dict[str, tuple[int, int]], rank: int = 16) -> Spec:
    spec: Spec = {}
    for name, (out_features, in_features) in modules.items():
        spec[f"{name}.lora_A.weight"] = (rank, in_features)
        spec[f"{name}.lora_B.weight"] = (out_features, rank)
    return spec


SD1_KOHYA_MODULES = {
    "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k": (320, 768),
    "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q": (320, 320),
    "lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_ff_net_2": (320, 1280),
    "lora_te_text_model_encoder_layers_0_self_attn_q_proj": (768, 768),
}
SDXL_KOHYA_MODULES = {
    "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k": (640, 2048),
    "lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_q": (640, 640),
    "lora_unet_output_blocks_5_1_transformer_blocks_1_ff_net_2": (1280, 5120),
    "lora_te1_text_model_encoder_layers_0_self_attn_q_proj": (768, 768),
    "lora_te2_text_model_encoder_layers_0_self_attn_q_proj": (1280, 1280),
}
FLUX_KOHYA_MODULES = {
    "lora_unet_double_blocks_0_img_attn_qkv": (9216, 3072),
    "lora_unet_double_blocks_0_txt_attn_proj": (3072, 3072),
    "lora_unet_single_blocks_0_linear1": (21504, 3072),
}
