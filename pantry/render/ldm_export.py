"""Write a diffusers pipeline as one A1111-layout ("LDM"/"SGM") single-file checkpoint.

diffusers ships only the LDM -> diffusers direction (``loaders/single_file_utils``); this is the
reverse, derived from each component's config so it fits any number of blocks and layers (the
tiny test and demo models as well as full-size ones). ``from_single_file`` reads what this
writes back into the same weights, which the tests check tensor by tensor.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

# diffusers resnet sub-module -> LDM name, UNet and VAE spell these differently
UNET_RESNET = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1",
    "conv_shortcut": "skip_connection",
}
VAE_RESNET = {"conv_shortcut": "nin_shortcut"}
VAE_ATTENTION = {
    "group_norm": "norm",
    "to_q": "q",
    "to_k": "k",
    "to_v": "v",
    "to_out.0": "proj_out",
}
UNET_TOP = {
    "conv_in": "input_blocks.0.0",
    "time_embedding.linear_1": "time_embed.0",
    "time_embedding.linear_2": "time_embed.2",
    "add_embedding.linear_1": "label_emb.0.0",
    "add_embedding.linear_2": "label_emb.0.2",
    "conv_norm_out": "out.0",
    "conv_out": "out.2",
}
# OpenCLIP (SD2 / SDXL second encoder) names for transformers' CLIP names
OPEN_CLIP_LAYER = {
    "layer_norm1": "ln_1",
    "layer_norm2": "ln_2",
    "mlp.fc1": "mlp.c_fc",
    "mlp.fc2": "mlp.c_proj",
    "self_attn.out_proj": "attn.out_proj",
}


def pipeline_to_ldm(pipe) -> dict[str, torch.Tensor]:
    """The A1111 state dict of an SD1/SD2 or SDXL pipeline (by which text encoders it has)."""
    state: dict[str, torch.Tensor] = {}
    state.update(_prefixed("model.diffusion_model.", unet_to_ldm(pipe.unet)))
    state.update(_prefixed("first_stage_model.", vae_to_ldm(pipe.vae)))
    if getattr(pipe, "text_encoder_2", None) is not None:
        state.update(
            _prefixed("conditioner.embedders.0.transformer.", clip_to_ldm(pipe.text_encoder))
        )
        state.update(
            _prefixed("conditioner.embedders.1.model.", open_clip_to_ldm(pipe.text_encoder_2))
        )
    elif pipe.text_encoder.config.hidden_act == "gelu":  # OpenCLIP-H (SD2)
        state.update(_prefixed("cond_stage_model.model.", open_clip_to_ldm(pipe.text_encoder)))
    else:
        state.update(_prefixed("cond_stage_model.transformer.", clip_to_ldm(pipe.text_encoder)))
    return state


def save_single_file(pipe, path: str | Path, dtype: torch.dtype | None = None) -> Path:
    path = Path(path)
    state = {
        k: v.detach().to(dtype or v.dtype).contiguous() for k, v in pipeline_to_ldm(pipe).items()
    }
    save_file(state, str(path))
    return path


def unet_to_ldm(unet) -> dict[str, torch.Tensor]:
    names = unet_key_map(unet)
    return {names[key]: value for key, value in unet.state_dict().items()}


def unet_key_map(unet) -> dict[str, str]:
    """diffusers UNet state-dict key -> LDM key (without the ``model.diffusion_model.`` prefix)."""
    cfg = unet.config
    per_block = cfg.layers_per_block
    stride = per_block + 1  # LDM numbers a block's resnets and its down/upsampler in one sequence
    renames: list[tuple[str, str]] = [(k + ".", v + ".") for k, v in UNET_TOP.items()]
    for b in range(len(cfg.block_out_channels)):
        for j in range(per_block):
            renames.append(
                (f"down_blocks.{b}.resnets.{j}.", f"input_blocks.{stride * b + j + 1}.0.")
            )
            renames.append(
                (f"down_blocks.{b}.attentions.{j}.", f"input_blocks.{stride * b + j + 1}.1.")
            )
        renames.append(
            (f"down_blocks.{b}.downsamplers.0.conv.", f"input_blocks.{stride * (b + 1)}.0.op.")
        )
        has_attention = "CrossAttn" in cfg.up_block_types[b]
        for j in range(stride):
            renames.append((f"up_blocks.{b}.resnets.{j}.", f"output_blocks.{stride * b + j}.0."))
            renames.append((f"up_blocks.{b}.attentions.{j}.", f"output_blocks.{stride * b + j}.1."))
        upsampler = f"output_blocks.{stride * b + per_block}.{2 if has_attention else 1}."
        renames.append((f"up_blocks.{b}.upsamplers.0.", upsampler))
    renames += [
        ("mid_block.resnets.0.", "middle_block.0."),
        ("mid_block.attentions.0.", "middle_block.1."),
        ("mid_block.resnets.1.", "middle_block.2."),
    ]
    out = {}
    for key in unet.state_dict():
        new = _rename(key, renames)
        if ".resnets." in key:
            new = _rename_leaf(new, UNET_RESNET)
        out[key] = new
    return out


def vae_to_ldm(vae) -> dict[str, torch.Tensor]:
    n_blocks = len(vae.config.block_out_channels)
    renames: list[tuple[str, str]] = []
    for i in range(n_blocks):
        renames.append((f"encoder.down_blocks.{i}.resnets.", f"encoder.down.{i}.block."))
        renames.append(
            (f"encoder.down_blocks.{i}.downsamplers.0.", f"encoder.down.{i}.downsample.")
        )
        up = n_blocks - 1 - i  # LDM numbers decoder levels from the lowest resolution up
        renames.append((f"decoder.up_blocks.{i}.resnets.", f"decoder.up.{up}.block."))
        renames.append((f"decoder.up_blocks.{i}.upsamplers.0.", f"decoder.up.{up}.upsample."))
    for part in ("encoder", "decoder"):
        renames += [
            (f"{part}.mid_block.resnets.0.", f"{part}.mid.block_1."),
            (f"{part}.mid_block.resnets.1.", f"{part}.mid.block_2."),
            (f"{part}.mid_block.attentions.0.", f"{part}.mid.attn_1."),
            (f"{part}.conv_norm_out.", f"{part}.norm_out."),
        ]
    out = {}
    for key, value in vae.state_dict().items():
        new = _rename(key, renames)
        if ".attn_1." in new:
            new = _rename_leaf(new, VAE_ATTENTION)
            if new.endswith(".weight") and value.ndim == 2:
                value = value[:, :, None, None]  # LDM stores these projections as 1x1 convolutions
        elif ".block" in new:
            new = _rename_leaf(new, VAE_RESNET)
        out[new] = value
    return out


def clip_to_ldm(text_encoder) -> dict[str, torch.Tensor]:
    """transformers CLIPTextModel -> ``transformer.text_model.*`` (prefix added by the caller)."""
    state = text_encoder.state_dict()
    out = {}
    for key, value in state.items():
        if key.startswith("text_projection"):
            continue
        # transformers >= 5.6 dropped the ``text_model.`` level; A1111 files keep it
        out["text_model." + key.removeprefix("text_model.")] = value
    return out


def open_clip_to_ldm(text_encoder) -> dict[str, torch.Tensor]:
    """transformers CLIP text model -> OpenCLIP names (fused q/k/v, transposed projection)."""
    state = {k.removeprefix("text_model."): v for k, v in text_encoder.state_dict().items()}
    out = {
        "token_embedding.weight": state["embeddings.token_embedding.weight"],
        "positional_embedding": state["embeddings.position_embedding.weight"],
        "ln_final.weight": state["final_layer_norm.weight"],
        "ln_final.bias": state["final_layer_norm.bias"],
    }
    if "text_projection.weight" in state:
        out["text_projection"] = state["text_projection.weight"].T.contiguous()
    for i in range(text_encoder.config.num_hidden_layers):
        src, dst = f"encoder.layers.{i}.", f"transformer.resblocks.{i}."
        for leaf in ("weight", "bias"):
            qkv = [state[f"{src}self_attn.{p}_proj.{leaf}"] for p in ("q", "k", "v")]
            out[f"{dst}attn.in_proj_{leaf}"] = torch.cat(qkv)
            for ours, theirs in OPEN_CLIP_LAYER.items():
                out[f"{dst}{theirs}.{leaf}"] = state[f"{src}{ours}.{leaf}"]
    return out


def _prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {prefix + k: v for k, v in state.items()}


def _rename(key: str, renames: list[tuple[str, str]]) -> str:
    for old, new in renames:
        if key.startswith(old):
            return new + key[len(old) :]
    return key


def _rename_leaf(key: str, table: dict[str, str]) -> str:
    for old, new in table.items():
        if f".{old}." in key:
            return key.replace(f".{old}.", f".{new}.")
    return key
