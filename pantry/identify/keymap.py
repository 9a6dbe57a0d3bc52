"""Diffusers names <-> original (LDM/SGM, OpenCLIP, BFL) names, computed from a config.

diffusers ships only the original -> diffusers direction, and its converters work on whole
state dicts with tensors; pantry needs names alone (header-only identification, LoRA coverage)
and the reverse direction (writing single-file checkpoints), so the tables are built here from
the same layout rules. Every function works on dotted names of modules *or* parameters:
``down_blocks.1.resnets.0`` and ``down_blocks.1.resnets.0.norm1.weight`` both map.

Main entry points, each returning ``{diffusers_name: original_name}`` for the names given:

- ``unet_diffusers_to_original(keys, config)``  (config: a diffusers UNet2DConditionModel config)
- ``vae_diffusers_to_original(keys, config)``
- ``clip_diffusers_to_original(keys)``          (CLIP-L, HF layout)
- ``openclip_diffusers_to_original(keys)``      (OpenCLIP H / bigG; q/k/v fuse into in_proj)

and the reverse name functions ``unet_to_diffusers``, ``vae_to_diffusers``,
``openclip_to_diffusers``, ``flux_diffusers_to_bfl``. Shapes differ in two places only:
``vae_original_shape`` (1x1 conv attention) and OpenCLIP's fused/transposed tensors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

# --- UNet ------------------------------------------------------------------------------------

UNET_TOP_LEVEL = {
    "time_embedding.linear_1": "time_embed.0",
    "time_embedding.linear_2": "time_embed.2",
    "add_embedding.linear_1": "label_emb.0.0",
    "add_embedding.linear_2": "label_emb.0.2",
    "class_embedding.linear_1": "label_emb.0.0",
    "class_embedding.linear_2": "label_emb.0.2",
    "conv_in": "input_blocks.0.0",
    "conv_norm_out": "out.0",
    "conv_out": "out.2",
}

UNET_RESNET = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "time_emb_proj": "emb_layers.1",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "conv_shortcut": "skip_connection",
}


def unet_diffusers_to_original(keys: Iterable[str], config: Mapping) -> dict[str, str]:
    """{diffusers name: LDM name (without ``model.diffusion_model.``)} for a UNet."""
    table = _unet_table(_UnetShape.of(config))
    return {k: _translate(k, table) for k in keys}


def unet_to_original(name: str, config: Mapping) -> str | None:
    return _translate(name, _unet_table(_UnetShape.of(config)))


def unet_to_diffusers(name: str, config: Mapping) -> str | None:
    """The diffusers name of an LDM/SGM UNet name (``input_blocks.4.1...``); None if unknown."""
    return _translate(name, _unet_inverse(_UnetShape.of(config)))


# --- VAE -------------------------------------------------------------------------------------

VAE_TOP_LEVEL = {
    f"{part}.{name}": f"{part}.{ldm}"
    for part in ("encoder", "decoder")
    for name, ldm in (
        ("conv_in", "conv_in"),
        ("conv_out", "conv_out"),
        ("conv_norm_out", "norm_out"),
    )
} | {"quant_conv": "quant_conv", "post_quant_conv": "post_quant_conv"}

VAE_RESNET = {"norm1": "norm1", "conv1": "conv1", "norm2": "norm2", "conv2": "conv2"} | {
    "conv_shortcut": "nin_shortcut"
}
VAE_ATTENTION = {
    "group_norm": "norm",
    "to_q": "q",
    "to_k": "k",
    "to_v": "v",
    "to_out.0": "proj_out",
}


def vae_diffusers_to_original(keys: Iterable[str], config: Mapping) -> dict[str, str]:
    """{diffusers name: LDM name (without ``first_stage_model.``)} for an AutoencoderKL."""
    table = _vae_table(_VaeShape.of(config))
    return {k: _translate(k, table) for k in keys}


def vae_to_diffusers(name: str, config: Mapping) -> str | None:
    return _translate(name, _vae_inverse(_VaeShape.of(config)))


def vae_original_shape(original_name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """LDM stores the mid-block attention projections as 1x1 convolutions."""
    leaf = original_name.rsplit(".", 2)[-2:]
    if "attn_1" in original_name and leaf[1] == "weight" and leaf[0] in {"q", "k", "v", "proj_out"}:
        return (*shape, 1, 1) if len(shape) == 2 else shape
    return shape


# --- Text encoders ---------------------------------------------------------------------------

# Where single-file checkpoints keep their text encoders (prefix of the HF-layout keys).
CLIP_PREFIXES = {
    "sd1": "cond_stage_model.transformer.",
    "sdxl": "conditioner.embedders.0.transformer.",
    "sd3_clip_l": "text_encoders.clip_l.transformer.",
    "sd3_clip_g": "text_encoders.clip_g.transformer.",
}
OPENCLIP_PREFIXES = {
    "sd2": "cond_stage_model.model.",
    "sdxl": "conditioner.embedders.1.model.",
    "sdxl_refiner": "conditioner.embedders.0.model.",
}


def clip_diffusers_to_original(keys: Iterable[str], prefix: str = CLIP_PREFIXES["sd1"]):
    """HF CLIPTextModel names -> single-file names. transformers >= 5.6 saves the names without
    ``text_model.``; the original files always have it, so it is put back."""
    return {k: prefix + with_text_model(k) for k in keys}


def with_text_model(name: str) -> str:
    """``encoder.layers.0...`` -> ``text_model.encoder.layers.0...`` (text_projection stays)."""
    if name.startswith(("text_model.", "text_projection")):
        return name
    return "text_model." + name


def without_text_model(name: str) -> str:
    return name.removeprefix("text_model.")


OPENCLIP_TOP_LEVEL = {
    "text_model.embeddings.token_embedding": "token_embedding",
    "text_model.embeddings.position_embedding.weight": "positional_embedding",
    "text_model.final_layer_norm": "ln_final",
    "text_projection.weight": "text_projection",
}
OPENCLIP_LAYER = {
    "layer_norm1": "ln_1",
    "layer_norm2": "ln_2",
    "self_attn.out_proj": "attn.out_proj",
    "mlp.fc1": "mlp.c_fc",
    "mlp.fc2": "mlp.c_proj",
}
# q/k/v projections are one fused ``in_proj`` in OpenCLIP's nn.MultiheadAttention.
OPENCLIP_FUSED = {
    "self_attn.q_proj": "attn",
    "self_attn.k_proj": "attn",
    "self_attn.v_proj": "attn",
}
OPENCLIP_FUSED_PARAMS = {"weight": "in_proj_weight", "bias": "in_proj_bias"}


def openclip_diffusers_to_original(keys: Iterable[str]) -> dict[str, str]:
    """HF CLIPTextModelWithProjection names -> OpenCLIP names (no prefix).

    ``...self_attn.q_proj.weight`` (and k, v) all map to
    ``transformer.resblocks.N.attn.in_proj_weight``: the writer concatenates q, k, v along
    dim 0. ``text_projection`` is stored transposed.
    """
    return {k: openclip_to_original(k) for k in keys}


def openclip_to_original(name: str) -> str | None:
    name = with_text_model(name)
    for hf, oc in OPENCLIP_TOP_LEVEL.items():
        if name == hf or name.startswith(hf + "."):
            return oc + name[len(hf) :]
    layer_prefix = "text_model.encoder.layers."
    if not name.startswith(layer_prefix):
        return None
    index, _, rest = name[len(layer_prefix) :].partition(".")
    block = f"transformer.resblocks.{index}"
    for hf, oc in OPENCLIP_LAYER.items():
        if rest == hf or rest.startswith(hf + "."):
            return f"{block}.{oc}{rest[len(hf) :]}"
    for hf, oc in OPENCLIP_FUSED.items():
        if rest == hf:
            return f"{block}.{oc}"
        if rest.startswith(hf + "."):
            return f"{block}.{oc}.{OPENCLIP_FUSED_PARAMS[rest[len(hf) + 1 :]]}"
    return None


def openclip_to_diffusers(name: str) -> list[str]:
    """OpenCLIP name -> HF names (several for the fused attention), without ``text_model.``."""
    for hf, oc in OPENCLIP_TOP_LEVEL.items():
        if name == oc or name.startswith(oc + "."):
            return [without_text_model(hf + name[len(oc) :])]
    prefix = "transformer.resblocks."
    if not name.startswith(prefix):
        return []
    index, _, rest = name[len(prefix) :].partition(".")
    layer = f"encoder.layers.{index}"
    for hf, oc in OPENCLIP_LAYER.items():
        if rest == oc or rest.startswith(oc + "."):
            return [f"{layer}.{hf}{rest[len(oc) :]}"]
    if rest == "attn":
        return [f"{layer}.{hf}" for hf in OPENCLIP_FUSED]
    for leaf, fused in OPENCLIP_FUSED_PARAMS.items():
        if rest == f"attn.{fused}":
            return [f"{layer}.{hf}.{leaf}" for hf in OPENCLIP_FUSED]
    return []


# --- Flux (module names; the BFL layout fuses several diffusers linears) ---------------------

FLUX_TOP_LEVEL = {
    "x_embedder": "img_in",
    "context_embedder": "txt_in",
    "time_text_embed.timestep_embedder.linear_1": "time_in.in_layer",
    "time_text_embed.timestep_embedder.linear_2": "time_in.out_layer",
    "time_text_embed.text_embedder.linear_1": "vector_in.in_layer",
    "time_text_embed.text_embedder.linear_2": "vector_in.out_layer",
    "time_text_embed.guidance_embedder.linear_1": "guidance_in.in_layer",
    "time_text_embed.guidance_embedder.linear_2": "guidance_in.out_layer",
    "norm_out.linear": "final_layer.adaLN_modulation.1",
    "proj_out": "final_layer.linear",
}
FLUX_DOUBLE_BLOCK = {
    "norm1.linear": "img_mod.lin",
    "norm1_context.linear": "txt_mod.lin",
    "attn.to_q": "img_attn.qkv",
    "attn.to_k": "img_attn.qkv",
    "attn.to_v": "img_attn.qkv",
    "attn.add_q_proj": "txt_attn.qkv",
    "attn.add_k_proj": "txt_attn.qkv",
    "attn.add_v_proj": "txt_attn.qkv",
    "attn.to_out.0": "img_attn.proj",
    "attn.to_add_out": "txt_attn.proj",
    "attn.norm_q": "img_attn.norm.query_norm",
    "attn.norm_k": "img_attn.norm.key_norm",
    "attn.norm_added_q": "txt_attn.norm.query_norm",
    "attn.norm_added_k": "txt_attn.norm.key_norm",
    "ff.net.0.proj": "img_mlp.0",
    "ff.net.2": "img_mlp.2",
    "ff_context.net.0.proj": "txt_mlp.0",
    "ff_context.net.2": "txt_mlp.2",
}
FLUX_SINGLE_BLOCK = {
    "norm.linear": "modulation.lin",
    "attn.to_q": "linear1",
    "attn.to_k": "linear1",
    "attn.to_v": "linear1",
    "proj_mlp": "linear1",
    "proj_out": "linear2",
    "attn.norm_q": "norm.query_norm",
    "attn.norm_k": "norm.key_norm",
}


def flux_diffusers_to_bfl(name: str) -> str | None:
    """Diffusers FluxTransformer2DModel module name -> BFL module name (many-to-one)."""
    if name in FLUX_TOP_LEVEL:
        return FLUX_TOP_LEVEL[name]
    for prefix, bfl_prefix, table in (
        ("transformer_blocks.", "double_blocks.", FLUX_DOUBLE_BLOCK),
        ("single_transformer_blocks.", "single_blocks.", FLUX_SINGLE_BLOCK),
    ):
        if name.startswith(prefix):
            index, _, rest = name[len(prefix) :].partition(".")
            if rest in table:
                return f"{bfl_prefix}{index}.{table[rest]}"
    return None


# --- helpers ---------------------------------------------------------------------------------


class _UnetShape(tuple):
    """(levels, layers_per_block, attention per down level, attention per up level, mid attn)."""

    @classmethod
    def of(cls, config: Mapping) -> _UnetShape:
        layers = config.get("layers_per_block", 2)
        if not isinstance(layers, int):
            raise ValueError("layers_per_block must be one number for the LDM layout")
        down = tuple("CrossAttn" in t for t in config["down_block_types"])
        up = tuple("CrossAttn" in t for t in config["up_block_types"])
        mid_type = config.get("mid_block_type") or "UNetMidBlock2DCrossAttn"
        return cls((len(down), layers, down, up, "CrossAttn" in mid_type))


@cache
def _unet_table(shape: _UnetShape) -> dict[str, str]:
    levels, per, down_attn, up_attn, mid_attn = shape
    table = dict(UNET_TOP_LEVEL)

    def resnet(diffusers: str, ldm: str) -> None:
        table[diffusers] = ldm
        for d, o in UNET_RESNET.items():
            table[f"{diffusers}.{d}"] = f"{ldm}.{o}"

    for b in range(levels):
        for j in range(per):
            n = 1 + b * (per + 1) + j
            resnet(f"down_blocks.{b}.resnets.{j}", f"input_blocks.{n}.0")
            if down_attn[b]:
                table[f"down_blocks.{b}.attentions.{j}"] = f"input_blocks.{n}.1"
        if b < levels - 1:
            n = (b + 1) * (per + 1)
            table[f"down_blocks.{b}.downsamplers.0.conv"] = f"input_blocks.{n}.0.op"
    resnet("mid_block.resnets.0", "middle_block.0")
    if mid_attn:
        table["mid_block.attentions.0"] = "middle_block.1"
        resnet("mid_block.resnets.1", "middle_block.2")
    else:
        resnet("mid_block.resnets.1", "middle_block.1")
    for b in range(levels):
        for j in range(per + 1):
            n = b * (per + 1) + j
            resnet(f"up_blocks.{b}.resnets.{j}", f"output_blocks.{n}.0")
            if up_attn[b]:
                table[f"up_blocks.{b}.attentions.{j}"] = f"output_blocks.{n}.1"
        if b < levels - 1:
            n = b * (per + 1) + per
            sub = 2 if up_attn[b] else 1
            table[f"up_blocks.{b}.upsamplers.0.conv"] = f"output_blocks.{n}.{sub}.conv"
    return table


class _VaeShape(tuple):
    @classmethod
    def of(cls, config: Mapping) -> _VaeShape:
        return cls((len(config["down_block_types"]), config.get("layers_per_block", 2)))


@cache
def _vae_table(shape: _VaeShape) -> dict[str, str]:
    levels, per = shape
    table = dict(VAE_TOP_LEVEL)

    def resnet(diffusers: str, ldm: str) -> None:
        table[diffusers] = ldm
        for d, o in VAE_RESNET.items():
            table[f"{diffusers}.{d}"] = f"{ldm}.{o}"

    for part in ("encoder", "decoder"):
        resnet(f"{part}.mid_block.resnets.0", f"{part}.mid.block_1")
        resnet(f"{part}.mid_block.resnets.1", f"{part}.mid.block_2")
        table[f"{part}.mid_block.attentions.0"] = f"{part}.mid.attn_1"
        for d, o in VAE_ATTENTION.items():
            table[f"{part}.mid_block.attentions.0.{d}"] = f"{part}.mid.attn_1.{o}"
    for i in range(levels):
        for j in range(per):
            resnet(f"encoder.down_blocks.{i}.resnets.{j}", f"encoder.down.{i}.block.{j}")
        if i < levels - 1:
            table[f"encoder.down_blocks.{i}.downsamplers.0.conv"] = (
                f"encoder.down.{i}.downsample.conv"
            )
        # The LDM decoder numbers its levels from the bottom up.
        for j in range(per + 1):
            resnet(f"decoder.up_blocks.{i}.resnets.{j}", f"decoder.up.{levels - 1 - i}.block.{j}")
        if i < levels - 1:
            table[f"decoder.up_blocks.{i}.upsamplers.0.conv"] = (
                f"decoder.up.{levels - 1 - i}.upsample.conv"
            )
    return table


@cache
def _unet_inverse(shape: _UnetShape) -> dict[str, str]:
    return _inverse(_unet_table(shape))


@cache
def _vae_inverse(shape: _VaeShape) -> dict[str, str]:
    return _inverse(_vae_table(shape))


def _inverse(table: Mapping[str, str]) -> dict[str, str]:
    # Where two diffusers names share an original (class vs addition embedding), keep the first.
    inverse: dict[str, str] = {}
    for d, o in table.items():
        inverse.setdefault(o, d)
    return inverse


def _translate(name: str, table: Mapping[str, str]) -> str | None:
    """Map the longest dotted prefix of ``name`` found in ``table``; keep the rest as is."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in table:
            return ".".join([table[head], *parts[cut:]])
    return None
