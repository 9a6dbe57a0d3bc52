"""Layouts of the other files in model folders, for tests.

``layout(name)`` reads ``tests/identify/layouts/`` (built from the real model classes by
``build_other_layouts.py``); the functions below write out, by hand, files no installed library
defines, with the key names and shapes of the published files (named in each docstring).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.identify.builders import Spec

LAYOUT_DIR = Path(__file__).resolve().parent / "layouts"


def layout(name: str) -> Spec:
    with gzip.open(LAYOUT_DIR / f"{name}.json.gz", "rt") as f:
        return {k: tuple(v) for k, v in json.load(f)["tensors"].items()}


def ip_adapter(proj: Spec, context: int, blocks: int = 16, lora: bool = False) -> Spec:
    """h94/IP-Adapter .bin flattened: ``image_proj.*`` + ``ip_adapter.<n>.to_k_ip/to_v_ip``."""
    spec = {"image_proj." + k: v for k, v in proj.items()}
    for n in range(1, 2 * blocks, 2):
        spec[f"ip_adapter.{n}.to_k_ip.weight"] = (320, context)
        spec[f"ip_adapter.{n}.to_v_ip.weight"] = (320, context)
        if lora:  # FaceID: LoRA attention processors beside the IP projections
            for proj_name in ("to_q", "to_k", "to_v", "to_out"):
                spec[f"ip_adapter.{n}.{proj_name}_lora.down.weight"] = (128, 320)
                spec[f"ip_adapter.{n}.{proj_name}_lora.up.weight"] = (320, 128)
    return spec


# image_proj of each IP-Adapter family (h94/IP-Adapter, h94/IP-Adapter-FaceID, InstantX/InstantID)
PROJ_STANDARD_SD15 = {"proj.weight": (3072, 1024), "norm.weight": (768,), "norm.bias": (768,)}
PROJ_STANDARD_SDXL = {"proj.weight": (8192, 1280), "norm.weight": (2048,), "norm.bias": (2048,)}
PROJ_PLUS_SD15 = {
    "latents": (1, 16, 768),
    "proj_in.weight": (768, 1280),
    "proj_out.weight": (768, 768),
    "norm_out.weight": (768,),
    "layers.0.0.to_q.weight": (768, 768),
}
PROJ_FULL_FACE_SD15 = {
    "proj.0.weight": (1280, 1280),
    "proj.2.weight": (768, 1280),
    "norm.weight": (768,),
}
PROJ_FACEID_SD15 = {
    "proj.0.weight": (1024, 512),
    "proj.2.weight": (3072, 1024),
    "norm.weight": (768,),
}
PROJ_INSTANTID = {
    "latents": (1, 16, 2048),
    "proj_in.weight": (2048, 512),
    "proj_out.weight": (2048, 2048),
}


def esrgan_old() -> Spec:
    """4x-UltraSharp / ESRGAN_4x.pth: the original RRDB Sequential."""
    return {
        "model.0.weight": (64, 3, 3, 3),
        "model.1.sub.0.RDB1.conv1.0.weight": (32, 64, 3, 3),
        "model.1.sub.23.RDB3.conv5.0.weight": (64, 224, 3, 3),
        "model.10.weight": (3, 64, 3, 3),
    }


def realesrgan(prefix: str = "params_ema.") -> Spec:
    """RealESRGAN_x4plus.pth: BasicSR RRDBNet under params_ema."""
    spec = {
        "conv_first.weight": (64, 3, 3, 3),
        "body.0.rdb1.conv1.weight": (32, 64, 3, 3),
        "conv_body.weight": (64, 64, 3, 3),
        "conv_up1.weight": (64, 64, 3, 3),
        "conv_last.weight": (3, 64, 3, 3),
    }
    return {prefix + k: v for k, v in spec.items()}


def realesrgan_compact() -> Spec:
    """realesr-general-x4v3.pth: SRVGGNetCompact, body.N convs and PReLUs, under params."""
    spec: Spec = {"params.body.0.weight": (64, 3, 3, 3), "params.body.0.bias": (64,)}
    for n in range(1, 66, 2):
        spec[f"params.body.{n}.weight"] = (64,)
        spec[f"params.body.{n + 1}.weight"] = (64, 64, 3, 3)
    spec["params.body.67.weight"] = (48, 64, 3, 3)
    return spec


def swinir() -> Spec:
    """003_realSR_BSRGAN_DFOWMFC_s64w8_SwinIR-L_x4_GAN.pth (params_ema)."""
    return {
        "params_ema.conv_first.weight": (240, 3, 3, 3),
        "params_ema.layers.0.residual_group.blocks.0.norm1.weight": (240,),
        "params_ema.layers.0.residual_group.blocks.0.attn.qkv.weight": (720, 240),
        "params_ema.conv_last.weight": (3, 64, 3, 3),
    }


def hat() -> Spec:
    """HAT-L_SRx4_ImageNet-pretrain.pth: SwinIR-like, plus channel-attention blocks."""
    return {
        "params_ema.conv_first.weight": (180, 3, 3, 3),
        "params_ema.layers.0.residual_group.blocks.0.norm1.weight": (180,),
        "params_ema.layers.0.residual_group.blocks.0.conv_block.cab.0.weight": (60, 180, 3, 3),
        "params_ema.relative_position_index_SA": (256, 256),
    }


def gfpgan() -> Spec:
    """GFPGANv1.4.pth: U-Net encoder + StyleGAN2 decoder (params_ema)."""
    spec = {
        "conv_body_first.weight": (32, 3, 1, 1),
        "stylegan_decoder.style_mlp.1.weight": (512, 512),
        "stylegan_decoder.constant_input.weight": (1, 512, 4, 4),
        "stylegan_decoder.style_convs.0.modulated_conv.weight": (1, 512, 512, 3, 3),
        "condition_scale.0.0.weight": (512, 512, 3, 3),
        "final_linear.weight": (8192, 8192),
    }
    return {"params_ema." + k: v for k, v in spec.items()}


def codeformer() -> Spec:
    """codeformer.pth: VQGAN encoder/generator with a transformer code predictor (params_ema)."""
    spec = {
        "position_emb": (256, 512),
        "feat_emb.weight": (512, 256),
        "encoder.blocks.0.weight": (64, 3, 3, 3),
        "quantize.embedding.weight": (1024, 256),
        "generator.blocks.0.weight": (512, 256, 3, 3),
        "ft_layers.0.self_attn.in_proj_weight": (1536, 512),
        "idx_pred_layer.0.weight": (512,),
        "idx_pred_layer.1.weight": (1024, 512),
    }
    return {"params_ema." + k: v for k, v in spec.items()}


def sam_vit_b() -> Spec:
    """sam_vit_b_01ec64.pth: image encoder, prompt encoder, mask decoder."""
    return {
        "image_encoder.pos_embed": (1, 64, 64, 768),
        "image_encoder.patch_embed.proj.weight": (768, 3, 16, 16),
        "image_encoder.blocks.0.attn.qkv.weight": (2304, 768),
        "prompt_encoder.point_embeddings.0.weight": (1, 256),
        "mask_decoder.iou_token.weight": (1, 256),
        "mask_decoder.mask_tokens.weight": (4, 256),
    }


def yolov8_pickle_tensors() -> Spec:
    """face_yolov8n.pt as the pickle reader flattens it: the pickled DetectionModel's modules."""
    return {
        "model.model.0.conv.weight": (16, 3, 3, 3),
        "model.model.0.bn.weight": (16,),
        "model.model.22.dfl.conv.weight": (1, 16, 1, 1),
    }


YOLO_GLOBALS = [
    "ultralytics.nn.tasks.DetectionModel",
    "ultralytics.nn.modules.conv.Conv",
    "ultralytics.nn.modules.head.Detect",
    "torch.nn.modules.container.Sequential",
]


def control_lora(context: int = 2048) -> Spec:
    """stabilityai/control-lora control-LoRA-canny-rank128: LDM ControlNet names, low-rank
    ``.up``/``.down`` pairs for the big layers, full weights for the rest."""
    return {
        "lora_controlnet": (0,),
        "input_blocks.0.0.weight": (320, 4, 3, 3),
        "input_hint_block.0.weight": (16, 3, 3, 3),
        "zero_convs.0.0.weight": (320, 320, 1, 1),
        "label_emb.0.0.weight": (1280, 2816),
        "input_blocks.4.1.transformer_blocks.0.attn2.to_k.up": (640, 128),
        "input_blocks.4.1.transformer_blocks.0.attn2.to_k.down": (128, context),
        "middle_block.1.transformer_blocks.0.attn2.to_k.up": (1280, 128),
        "middle_block.1.transformer_blocks.0.attn2.to_k.down": (128, context),
    }


def xlabs_flux_controlnet() -> Spec:
    """XLabs-AI/flux-controlnet-canny-v3: BFL names, a hint encoder and controlnet_blocks."""
    return {
        "img_in.weight": (3072, 64),
        "txt_in.weight": (3072, 4096),
        "guidance_in.in_layer.weight": (3072, 256),
        "double_blocks.0.img_attn.qkv.weight": (9216, 3072),
        "double_blocks.0.img_attn.norm.key_norm.scale": (128,),
        "controlnet_blocks.0.weight": (3072, 3072),
        "input_hint_block.0.weight": (16, 3, 3, 3),
        "pos_embed_input.weight": (3072, 64),
    }
