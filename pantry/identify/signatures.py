"""Structural signatures: the decisive tensor names and shapes of each architecture and kind.

Pure data, read by the matchers in this package. Keys are relative to a *root* (the prefix a
tool saved them under); the matchers try each root in the listed order. Sources are the
reference tools' own detectors (InvokeAI, ComfyUI, diffusers, kohya, SwarmUI), paraphrased.
"""

from __future__ import annotations

from dataclasses import dataclass

from pantry.identify.taxonomy import Base, Component, Edition, Precision, Variant

# --- Roots (prefix normalisation) ------------------------------------------------------------

# Where a diffusion model's keys start, most specific first ("" = bare keys).
DIFFUSION_ROOTS = (
    "model.diffusion_model.",
    "diffusion_model.",
    "model.model.",
    "model.",
    "net.",
    "transformer.",
    "unet.",
    "",
)
VAE_ROOTS = ("first_stage_model.", "vae.", "")
CONTROLNET_ROOTS = ("control_model.", "controlnet.", "")
TEXT_ENCODER_ROOTS = ("", "text_model.", "transformer.", "model.")


# --- Main models (checkpoint / diffusion model) ----------------------------------------------


@dataclass(frozen=True)
class ArchSignature:
    """A family of diffusion models told apart by keys relative to the diffusion root.

    ``any_of``: one of these present is enough; ``all_of``: every one must be present too.
    ``layout`` names how the rest of the keys are spelt (ldm UNet, diffusers UNet, DiT).
    A signature with ``base=None`` needs a second look (the UNet's cross-attention width).
    """

    name: str
    base: Base | None
    layout: str
    any_of: tuple[str, ...]
    all_of: tuple[str, ...] = ()
    fact: str = ""


# Order matters: the first match wins, so special families come before the generic UNets.
MAIN_SIGNATURES: tuple[ArchSignature, ...] = (
    ArchSignature(
        "svd",
        Base.SVD,
        "ldm",
        ("input_blocks.1.0.time_stack.emb_layers.1.bias",),
        fact="temporal time_stack layers (Stable Video Diffusion UNet)",
    ),
    ArchSignature(
        "cascade",
        Base.CASCADE,
        "dit",
        ("clf.1.weight", "clip_mapper.weight"),
        fact="Stable Cascade stage B/C blocks",
    ),
    ArchSignature(
        "chroma",
        Base.CHROMA,
        "dit",
        ("distilled_guidance_layer.in_proj.bias",),
        fact="distilled_guidance_layer (Chroma, a Flux derivative)",
    ),
    ArchSignature(
        "flux2",
        Base.FLUX2,
        "dit",
        ("double_stream_modulation_img.lin.weight", "single_stream_modulation.lin.weight"),
        fact="shared stream modulation (Flux.2 transformer)",
    ),
    ArchSignature(
        "flux",
        Base.FLUX,
        "dit",
        (
            "double_blocks.0.img_attn.norm.key_norm.scale",
            "double_blocks.0.img_attn.qkv.weight",
            "single_transformer_blocks.0.attn.norm_k.weight",
        ),
        fact="double/single stream blocks (Flux.1 transformer)",
    ),
    ArchSignature(
        "sd3",
        Base.SD3,
        "dit",
        ("joint_blocks.0.context_block.attn.qkv.weight",),
        fact="joint_blocks (SD3 MMDiT)",
    ),
    ArchSignature(
        "sd3_diffusers",
        Base.SD3,
        "dit",
        ("transformer_blocks.0.attn.add_k_proj.weight",),
        all_of=("pos_embed.proj.weight", "context_embedder.weight"),
        fact="joint transformer blocks with patch position embedding (SD3, diffusers layout)",
    ),
    ArchSignature(
        "auraflow",
        Base.AURAFLOW,
        "dit",
        ("double_layers.0.attn.w1q.weight",),
        fact="double_layers w1q/w2q attention (AuraFlow)",
    ),
    ArchSignature(
        "auraflow_diffusers",
        Base.AURAFLOW,
        "dit",
        ("joint_transformer_blocks.0.attn.to_q.weight",),
        all_of=("register_tokens",),
        fact="joint transformer blocks with register tokens (AuraFlow, diffusers layout)",
    ),
    ArchSignature(
        "pixart",
        Base.PIXART,
        "dit",
        ("t_block.1.weight", "adaln_single.emb.timestep_embedder.linear_1.bias"),
        all_of=("pos_embed.proj.weight",),
        fact="t_block / adaln_single with patch embedding (PixArt)",
    ),
    ArchSignature(
        "pixart_original",
        Base.PIXART,
        "dit",
        ("t_block.1.weight",),
        all_of=("x_embedder.proj.weight", "y_embedder.y_proj.fc1.weight"),
        fact="t_block / y_embedder caption projection (PixArt, original layout)",
    ),
    ArchSignature(
        "hunyuan_dit",
        Base.HUNYUAN_DIT,
        "dit",
        ("mlp_t5.0.weight", "time_extra_emb.pooler.q_proj.weight"),
        all_of=("text_embedding_padding",),
        fact="T5 caption projection with text padding tokens (HunyuanDiT)",
    ),
    ArchSignature(
        "lumina2",
        Base.LUMINA2,
        "dit",
        (
            "cap_embedder.1.weight",
            "cap_embedder.0.weight",
            "time_caption_embed.caption_embedder.1.weight",
        ),
        fact="cap_embedder (Lumina 2 family)",
    ),
    ArchSignature(
        "unet_ldm",
        None,
        "ldm",
        ("input_blocks.0.0.weight",),
        all_of=("out.2.weight",),
        fact="LDM/SGM UNet (input_blocks / middle_block / output_blocks)",
    ),
    ArchSignature(
        "unet_diffusers",
        None,
        "diffusers",
        ("conv_in.weight",),
        all_of=("down_blocks.0.resnets.0.conv1.weight", "conv_out.weight"),
        fact="diffusers UNet2DConditionModel layout",
    ),
)

# Where a UNet's cross-attention K projection sits; its input width is the text context size.
CROSS_ATTN_KEYS: dict[str, tuple[str, ...]] = {
    "ldm": (
        "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
        "input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight",
        "middle_block.1.transformer_blocks.0.attn2.to_k.weight",
    ),
    "diffusers": (
        "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",
        "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight",
        "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight",
    ),
}
# Text context width -> base (768 CLIP-L, 1024 OpenCLIP-H, 2048 CLIP-L+bigG, 1280 bigG only).
CONTEXT_DIM_BASE: dict[int, Base] = {
    768: Base.SD1,
    1024: Base.SD2,
    2048: Base.SDXL,
    1280: Base.SDXL_REFINER,
}
IN_CHANNEL_KEYS = {"ldm": "input_blocks.0.0.weight", "diffusers": "conv_in.weight"}
# UNet input channels beyond the 4 latent ones, and what they mean.
IN_CHANNEL_VARIANTS: dict[int, Variant] = {
    9: Variant.INPAINT,  # latent + masked image + mask
    8: Variant.PIX2PIX,  # latent + image latent
    5: Variant.DEPTH,  # SD2 depth: latent + depth map
    7: Variant.UPSCALE,  # SD2 x4 upscaler: latent + low-res image
}
# SD2 unCLIP: the OpenCLIP image embedder rides along, and the UNet takes its embedding.
UNCLIP_KEYS = (
    "embedder.model.ln_final.weight",
    "embedder.model.visual.conv1.weight",
    "label_emb.0.0.weight",
)
ZERO123_KEY = "cc_projection.weight"

# Marker tensors ComfyUI (and trainers copying it) save at the top level of a checkpoint.
MARKER_TENSORS: dict[str, tuple[Variant, ...]] = {
    "v_pred": (Variant.V_PREDICTION,),
    "ztsnr": (Variant.ZTSNR,),
    "edm_vpred.sigma_max": (Variant.EDM, Variant.V_PREDICTION),
    "edm_mean": (Variant.EDM,),
}
PLAYGROUND_MARKERS = ("edm_mean", "edm_std")

# Flux: img_in input width (latent channels x 2x2 patch) says which release.
FLUX_IMG_IN_KEYS = ("img_in.weight", "x_embedder.weight")
FLUX_GUIDANCE_KEYS = (
    "guidance_in.in_layer.weight",
    "time_text_embed.guidance_embedder.linear_1.weight",
)
FLUX_IMG_IN_VARIANT: dict[int, Variant | None] = {
    64: None,
    384: Variant.FILL,
    128: Variant.DEPTH,  # or canny: shapes are the same; metadata/name decide
}

# SD3 editions.
SD3_LARGE_KEYS = ("joint_blocks.37.x_block.mlp.fc1.weight", "transformer_blocks.37.ff.net.2.weight")
SD3_MMDITX_KEYS = (
    "joint_blocks.0.x_block.attn2.qkv.weight",
    "transformer_blocks.0.attn2.to_q.weight",
)
SD3_POS_EMBED_KEYS = ("pos_embed", "pos_embed.pos_embed")
SD3_POS_EMBED_EDITION: dict[int, Edition] = {36864: Edition.SD3_MEDIUM, 147456: Edition.SD35_MEDIUM}

# SD2 edition from the training step stored in legacy checkpoints (InvokeAI, diffusers).
SD2_GLOBAL_STEP_EDITION: dict[int, Edition] = {
    875000: Edition.SD2_512,
    220000: Edition.SD2_512,
    110000: Edition.SD2_768_V,
}


# --- Components of a single-file checkpoint --------------------------------------------------


@dataclass(frozen=True)
class ComponentPrefix:
    component: Component
    prefix: str
    note: str


# Checked by prefix presence; a prefix may stand for different encoders in different bases.
COMPONENT_PREFIXES: tuple[ComponentPrefix, ...] = (
    ComponentPrefix(Component.VAE, "first_stage_model.", "LDM VAE"),
    ComponentPrefix(Component.VAE, "vae.", "VAE"),
    ComponentPrefix(Component.TEXT_ENCODER, "cond_stage_model.transformer.", "CLIP-L"),
    ComponentPrefix(Component.TEXT_ENCODER, "cond_stage_model.model.", "OpenCLIP-H"),
    ComponentPrefix(Component.TEXT_ENCODER, "conditioner.embedders.0.transformer.", "CLIP-L"),
    ComponentPrefix(Component.TEXT_ENCODER_2, "conditioner.embedders.1.model.", "OpenCLIP-bigG"),
    ComponentPrefix(Component.TEXT_ENCODER_2, "conditioner.embedders.0.model.", "OpenCLIP-bigG"),
    ComponentPrefix(Component.TEXT_ENCODER, "text_encoders.clip_l.", "CLIP-L"),
    ComponentPrefix(Component.TEXT_ENCODER_2, "text_encoders.clip_g.", "CLIP-G"),
    ComponentPrefix(Component.TEXT_ENCODER_3, "text_encoders.t5xxl.", "T5-XXL"),
    ComponentPrefix(Component.EMA, "model_ema.", "EMA weights"),
)

_U, _V, _T1, _T2, _T3 = (
    Component.UNET,
    Component.VAE,
    Component.TEXT_ENCODER,
    Component.TEXT_ENCODER_2,
    Component.TEXT_ENCODER_3,
)
# What a complete single-file checkpoint of each base holds (EMA is optional everywhere).
EXPECTED_COMPONENTS: dict[Base, tuple[Component, ...]] = {
    Base.SD1: (_U, _V, _T1),
    Base.SD2: (_U, _V, _T1),
    Base.SDXL: (_U, _V, _T1, _T2),
    Base.SDXL_REFINER: (_U, _V, _T2),
    Base.SD3: (_U, _V, _T1, _T2, _T3),
    Base.FLUX: (_U, _V, _T1, _T3),
    Base.CHROMA: (_U, _V, _T3),
    Base.SVD: (_U, _V),
}
# Components some official releases leave out on purpose (SD3 medium without T5).
OPTIONAL_COMPONENTS: dict[Base, tuple[Component, ...]] = {Base.SD3: (_T3,)}


# --- VAE -------------------------------------------------------------------------------------

VAE_DECISIVE = ("decoder.conv_in.weight", "encoder.conv_in.weight")
VAE_LATENT_KEY = "decoder.conv_in.weight"
VAE_DIFFUSERS_KEY = "decoder.up_blocks.0.resnets.0.norm1.weight"
VAE_TEMPORAL_KEY = "decoder.mid.block_1.mix_factor"
VAE_FLUX2_KEY = "bn.running_mean"
CASCADE_VAE_KEY = "vquantizer.codebook.weight"
TAESD_KEYS = ("taesd_decoder.1.weight", "decoder.layers.1.weight")
# Latent channels -> the bases whose VAEs have that many (shapes cannot say more).
VAE_LATENT_CANDIDATES: dict[int, tuple[Base, ...]] = {
    4: (Base.SD1, Base.SDXL),  # SD2 uses the SD1 VAE
    16: (Base.SD3, Base.FLUX),
    32: (Base.FLUX2,),
}


@dataclass(frozen=True)
class KnownFile:
    """A published file recognised by its full-file SHA-256."""

    known_as: str
    kind: str
    base: Base
    fp16_fix: bool | None = None
    lineage: str | None = None


# Third-party download manifests that agree with each other (reference B3); not anchor code.
KNOWN_SHA256: dict[str, KnownFile] = {
    "735e4c3a447a3255760d7f86845f09f937809baa529c17370d83e4c3758f3c75": KnownFile(
        "vae-ft-mse-840000-ema-pruned", "vae", Base.SD1, fp16_fix=False
    ),
    "c6a580b13a5bc05a5e16e4dbb80608ff2ec251a162311590c1f34c013d7f3dab": KnownFile(
        "vae-ft-mse-840000-ema-pruned (ckpt)", "vae", Base.SD1, fp16_fix=False
    ),
    "63aeecb90ff7bc1c115395962d3e803571385b61938377bc7089b36e81e92e2e": KnownFile(
        "sdxl_vae (stabilityai)", "vae", Base.SDXL, fp16_fix=False
    ),
    "235745af8d86bf4a4c1b5b4f529868b37019a10f7c0b2e79ad0abca3a22bc6e1": KnownFile(
        "sdxl-vae-fp16-fix (madebyollin)", "vae", Base.SDXL, fp16_fix=True
    ),
    "afc8e28272cd15db3919bacdb6918ce9c1ed22e96cb12c4d5ed0fba823529e38": KnownFile(
        "FLUX.1 ae", "vae", Base.FLUX
    ),
    "31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b": KnownFile(
        "sd_xl_base_1.0", "checkpoint", Base.SDXL
    ),
    "67ab2fd8ec439a89b3fedb15cc65f54336af163c7eb5e4f2acc98f090a29b0b3": KnownFile(
        "Pony Diffusion V6 XL", "checkpoint", Base.SDXL, lineage="pony"
    ),
}


# bitsandbytes saves each 4-bit weight's quantisation state beside it under these names.
BNB_QUANT_MARKERS: dict[str, Precision] = {
    "bitsandbytes__nf4": Precision.NF4,
    "bitsandbytes__fp4": Precision.FP4,
}
# Where a checkpoint's CLIP-L keeps its position ids (int64 0..76 in a healthy file).
POSITION_IDS_KEYS = (
    "cond_stage_model.transformer.text_model.embeddings.position_ids",
    "cond_stage_model.transformer.embeddings.position_ids",  # NAI layout
    "conditioner.embedders.0.transformer.text_model.embeddings.position_ids",
    "text_encoders.clip_l.transformer.text_model.embeddings.position_ids",
)


# --- Text encoders, embeddings ---------------------------------------------------------------


@dataclass(frozen=True)
class TextEncoderSignature:
    name: str
    width_key: str  # its shape[-1] (or [0] for OpenCLIP in_proj) is the model width
    layer_key: str  # "{n}" = layer index; the highest present tells the depth


TEXT_ENCODER_SIGNATURES: tuple[TextEncoderSignature, ...] = (
    TextEncoderSignature(
        "hf_clip",
        "text_model.embeddings.token_embedding.weight",
        "text_model.encoder.layers.{n}.self_attn.q_proj.weight",
    ),
    TextEncoderSignature(
        "openclip",
        "token_embedding.weight",
        "transformer.resblocks.{n}.attn.in_proj_weight",
    ),
)
T5_KEYS = ("encoder.block.0.layer.0.SelfAttention.q.weight", "shared.weight")
# CLIP width -> (encoder name, bases that use it).
TEXT_ENCODER_WIDTHS: dict[int, tuple[str, tuple[Base, ...]]] = {
    768: ("CLIP-L", (Base.SD1, Base.SDXL, Base.SD3, Base.FLUX)),
    1024: ("OpenCLIP-H", (Base.SD2,)),
    1280: ("OpenCLIP-bigG", (Base.SDXL, Base.SDXL_REFINER, Base.SD3)),
}

EMBEDDING_KEYS = ("emb_params", "string_to_param.*")
EMBEDDING_PREFIX = "string_to_param."
EMBEDDING_SDXL_KEYS = ("clip_l", "clip_g")
EMBEDDING_WIDTH_BASE: dict[int, Base] = {768: Base.SD1, 1024: Base.SD2}
# A bare {token: vector} file (diffusers learned_embeds) has at most a handful of tensors,
# named for their tokens (no ".weight"), each a few vectors (A1111 allows up to 75 per token).
EMBEDDING_MAX_LOOSE_TENSORS = 10
EMBEDDING_MAX_VECTORS = 75
# kohya LoRAs with textual inversions trained alongside: "bundle_emb.<name>.string_to_param.*".
BUNDLED_EMBEDDING_PREFIX = "bundle_emb."


# --- Adapters and the rest -------------------------------------------------------------------

CONTROLNET_KEYS = (
    "zero_convs.0.0.weight",
    "input_hint_block.0.weight",
    "controlnet_cond_embedding.conv_in.weight",
    "controlnet_mid_block.bias",
    "controlnet_blocks.0.weight",
    "controlnet_blocks.0.linear.weight",
    "controlnet_x_embedder.weight",
)
CONTROLNET_SD3_KEY = "pos_embed_input.proj.weight"
CONTROLNET_FLUX_KEYS = ("controlnet_x_embedder.weight", "double_blocks.0.img_attn.qkv.weight")

T2I_ADAPTER_KEYS = (
    "adapter.body.0.resnets.0.block1.weight",
    "body.0.in_conv.weight",
    "body.0.block2.weight",
    "style_embedding",  # TencentARC style adapter (CLIP ViT-L image tokens -> text context)
)
# Full adapters start with conv_in; light ones with a 1x1 in_conv in their first block.
T2I_ADAPTER_CONV_IN = (
    "adapter.conv_in.weight",
    "conv_in.weight",
    "adapter.body.0.in_conv.weight",
    "body.0.in_conv.weight",
)
T2I_STYLE_PROJECTION = "proj"  # [vision width, text context width]
T2I_XL_IN_CHANNELS = frozenset({256, 768})

IP_ADAPTER_PREFIXES = ("image_proj.", "ip_adapter.")
IP_ADAPTER_K_KEY = "ip_adapter.1.to_k_ip.weight"
IP_ADAPTER_FLUX_KEY = "double_blocks.0.processor.ip_adapter_double_stream_k_proj.weight"

HYPERNETWORK_WIDTHS = frozenset({320, 640, 768, 1024, 1280})
HYPERNETWORK_EXTRAS = frozenset({"layer_structure", "activation_func", "is_layer_norm"})
HYPERNETWORK_WIDTH_BASE: dict[int, Base] = {768: Base.SD1, 1024: Base.SD2}

# Upscalers, face restorers, image encoders: see pantry.identify.other_signatures.


# --- LoRA and friends ------------------------------------------------------------------------

# Tensor-name endings of adapter weights -> the role they play (LyCORIS parts keep their name).
# Looked up on the last 3, 2 and 1 dotted segments of each key; what stands before the ending is
# the module name.
LORA_SUFFIX_ROLES: dict[str, str] = {
    "lora_down.weight": "down",
    "lora_up.weight": "up",
    "lora_mid.weight": "mid",
    "lora_A.weight": "A",
    "lora_B.weight": "B",
    "lora_A.default.weight": "A",
    "lora_B.default.weight": "B",
    "lora_B.bias": "B_bias",
    "lora.down.weight": "down_diffusers",
    "lora.up.weight": "up_diffusers",
    "lora_linear_layer.down.weight": "down_diffusers",
    "lora_linear_layer.up.weight": "up_diffusers",
    "alpha": "alpha",
    "dora_scale": "dora_scale",
    "hada_w1_a": "hada_w1_a",
    "hada_w1_b": "hada_w1_b",
    "hada_w2_a": "hada_w2_a",
    "hada_w2_b": "hada_w2_b",
    "hada_t1": "hada_t1",
    "hada_t2": "hada_t2",
    "lokr_w1": "lokr_w1",
    "lokr_w1_a": "lokr_w1_a",
    "lokr_w1_b": "lokr_w1_b",
    "lokr_w2": "lokr_w2",
    "lokr_w2_a": "lokr_w2_a",
    "lokr_w2_b": "lokr_w2_b",
    "lokr_t1": "lokr_t1",
    "lokr_t2": "lokr_t2",
    "on_input": "ia3",
    "a1.weight": "glora",
    "a2.weight": "glora",
    "b1.weight": "glora",
    "b2.weight": "glora",
    "diff": "diff",
    "diff_b": "diff",
    "oft_blocks": "oft",
    "oft_diag": "oft",
    "w_norm": "norm",
    "b_norm": "norm",
}
# Old attention-processor and XLabs names end in "<proj>_lora[N].down.weight".
LORA_PROCESSOR_ROLES = {"down.weight": "down_processor", "up.weight": "up_processor"}
# Roles whose tensor is [rank, in_features]: the LoRA's rank and the patched layer's width.
LORA_DOWN_ROLES = frozenset({"down", "A", "down_diffusers", "down_processor"})
# Roles that make a module a LoRA module on their own (alpha alone does not).
LORA_WEIGHT_ROLES = frozenset(
    {"down", "up", "A", "B", "down_diffusers", "up_diffusers", "down_processor", "up_processor"}
    | {"hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "lokr_w1", "lokr_w1_a", "lokr_w2"}
    | {"lokr_w2_a", "ia3", "glora", "diff", "oft"}
)

# Module-name prefixes -> the component they patch. "denoiser" becomes unet or transformer
# once the base is known. Longest prefix first.
LORA_NAME_PREFIXES: tuple[tuple[str, str], ...] = (
    ("lora_unet_", "denoiser"),
    ("lora_te1_", "text_encoder"),
    ("lora_te2_", "text_encoder_2"),
    ("lora_te3_", "text_encoder_3"),
    ("lora_te_", "text_encoder"),
    ("lora_transformer_", "transformer"),
    ("lycoris_", "denoiser"),
    ("oft_unet_", "denoiser"),
    ("oft_te_", "text_encoder"),
    ("text_encoder_2.", "text_encoder_2"),
    ("text_encoder_3.", "text_encoder_3"),
    ("text_encoder.", "text_encoder"),
    ("te1.", "text_encoder"),
    ("te2.", "text_encoder_2"),
    ("unet.", "denoiser"),
    ("transformer.", "transformer"),
    ("diffusion_model.", "denoiser"),
    ("lora_controlnet", "controlnet"),
)
LORA_STRIP_PREFIXES = ("base_model.model.",)
# T5 modules, whatever slot the file puts them in.
T5_NAME_MARKERS = ("encoder_block_", "encoder.block.")

# LoRA base from the width of the layers it patches (lora_down shape[1]).
LORA_CROSS_ATTN_WIDTH: dict[int, Base] = dict(CONTEXT_DIM_BASE)
LORA_TE_WIDTH: dict[int, Base] = {768: Base.SD1, 1024: Base.SD2}
LORA_TE2_WIDTH = 1280  # OpenCLIP-bigG: SDXL
# DiT hidden size seen by the attention projections.
LORA_DIT_WIDTH: dict[int, tuple[Base, Edition | None]] = {
    3072: (Base.FLUX, None),
    1536: (Base.SD3, None),
    2432: (Base.SD3, Edition.SD35_LARGE),
}
# Name fragments (kohya underscores or diffusers dots) that place a LoRA on a DiT family.
LORA_NAME_FAMILIES: tuple[tuple[str, Base], ...] = (
    ("distilled_guidance_layer", Base.CHROMA),
    ("double_stream_modulation", Base.FLUX2),
    ("double_blocks", Base.FLUX),
    ("single_blocks", Base.FLUX),
    ("single_transformer_blocks", Base.FLUX),
    ("joint_blocks", Base.SD3),
    ("context_block", Base.SD3),
)
# SGM block names appear in kohya SDXL LoRAs; SD1/SD2 kohya LoRAs use diffusers names.
LORA_SGM_MARKERS = (
    "lora_unet_input_blocks_",
    "lora_unet_output_blocks_",
    "lora_unet_middle_block_",
)
# UNet LoRA module names hold one of these; a DiT's "transformer_blocks.N.attn2" (LTX-Video,
# PixArt, Wan) has cross-attention too, but its width is not a UNet context width.
LORA_UNET_BLOCK_MARKERS = ("attentions", "input_blocks", "output_blocks", "middle_block")
LORA_DIT_BLOCK_MARKERS = ("transformer_blocks", "double_blocks", "single_blocks", "joint_blocks")
# Flux.1 has 19 double-stream and 38 single-stream blocks at width 3072; HunyuanVideo (20/40)
# and Qwen-Image (60) share the width and most module names.
FLUX1_HIDDEN = 3072
FLUX1_BLOCK_COUNTS = {"double": 19, "single": 38}
# Module-name fragments of transformers that look like Flux (or SD3) to a width check.
LORA_LOOKALIKE_MARKERS: tuple[tuple[str, str], ...] = (
    ("img_mlp_fc1", "HunyuanVideo"),
    ("img_mlp.fc1", "HunyuanVideo"),
    ("img_mod_linear", "HunyuanVideo"),
    ("img_mod.linear", "HunyuanVideo"),
    ("modulation_linear", "HunyuanVideo"),
    ("modulation.linear", "HunyuanVideo"),
    ("token_refiner", "HunyuanVideo"),
    ("img_mlp_net", "Qwen-Image"),
    ("img_mlp.net", "Qwen-Image"),
    ("txt_mlp_net", "Qwen-Image"),
    ("txt_mlp.net", "Qwen-Image"),
    ("img_mod_1", "Qwen-Image"),
    ("img_mod.1", "Qwen-Image"),
    ("joint_transformer_blocks", "AuraFlow"),
)
# Flux BFL control LoRA: img_in takes 128 channels (latent + control image latent).
CONTROL_LORA_FLUX = ("img_in.lora_A.weight", "img_in.lora_B.bias")


# --- Diffusers folders -----------------------------------------------------------------------

# model_index.json _class_name -> base (None: decided by the UNet config) and variants.
PIPELINE_CLASSES: dict[str, tuple[Base | None, tuple[Variant, ...]]] = {
    "StableDiffusionPipeline": (None, ()),
    "StableDiffusionImg2ImgPipeline": (None, ()),
    "StableDiffusionInpaintPipeline": (None, (Variant.INPAINT,)),
    "StableDiffusionInstructPix2PixPipeline": (None, (Variant.PIX2PIX,)),
    "StableDiffusionDepth2ImgPipeline": (Base.SD2, (Variant.DEPTH,)),
    "StableDiffusionUpscalePipeline": (Base.SD2, (Variant.UPSCALE,)),
    "StableUnCLIPPipeline": (Base.SD2, (Variant.UNCLIP,)),
    "StableDiffusionXLPipeline": (None, ()),
    "StableDiffusionXLImg2ImgPipeline": (None, ()),
    "StableDiffusionXLInpaintPipeline": (Base.SDXL, (Variant.INPAINT,)),
    "StableDiffusionXLInstructPix2PixPipeline": (Base.SDXL, (Variant.PIX2PIX,)),
    "StableDiffusion3Pipeline": (Base.SD3, ()),
    "FluxPipeline": (Base.FLUX, ()),
    "FluxFillPipeline": (Base.FLUX, (Variant.FILL,)),
    "FluxControlPipeline": (Base.FLUX, (Variant.DEPTH,)),
    "Flux2Pipeline": (Base.FLUX2, ()),
    "ChromaPipeline": (Base.CHROMA, ()),
    "StableVideoDiffusionPipeline": (Base.SVD, ()),
    "StableCascadePriorPipeline": (Base.CASCADE, ()),
    "StableCascadeDecoderPipeline": (Base.CASCADE, ()),
    "AuraFlowPipeline": (Base.AURAFLOW, ()),
    "PixArtAlphaPipeline": (Base.PIXART, ()),
    "PixArtSigmaPipeline": (Base.PIXART, ()),
    "HunyuanDiTPipeline": (Base.HUNYUAN_DIT, ()),
    "Lumina2Pipeline": (Base.LUMINA2, ()),
    "Lumina2Text2ImgPipeline": (Base.LUMINA2, ()),
}
# Transformer config _class_name -> base.
TRANSFORMER_CLASSES: dict[str, Base] = {
    "FluxTransformer2DModel": Base.FLUX,
    "SD3Transformer2DModel": Base.SD3,
    "ChromaTransformer2DModel": Base.CHROMA,
    "Flux2Transformer2DModel": Base.FLUX2,
    "AuraFlowTransformer2DModel": Base.AURAFLOW,
    "PixArtTransformer2DModel": Base.PIXART,
    "HunyuanDiT2DModel": Base.HUNYUAN_DIT,
    "Lumina2Transformer2DModel": Base.LUMINA2,
}
# UNet config projection_class_embeddings_input_dim (SDXL's added time/size embedding).
UNET_ADM_BASE: dict[int, Base] = {2816: Base.SDXL, 2560: Base.SDXL_REFINER}
# Folder component name -> Component value (pantry's names).
FOLDER_COMPONENTS: dict[str, Component] = {
    "unet": Component.UNET,
    "transformer": Component.UNET,
    "prior": Component.UNET,
    "decoder": Component.UNET,
    "vae": Component.VAE,
    "text_encoder": Component.TEXT_ENCODER,
    "text_encoder_2": Component.TEXT_ENCODER_2,
    "text_encoder_3": Component.TEXT_ENCODER_3,
}
SDXL_VAE_SCALING_FACTOR = 0.13025
