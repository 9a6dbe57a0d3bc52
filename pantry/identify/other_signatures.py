"""Signatures of the other files users keep beside their models: image encoders, motion
modules, upscalers, face restorers, and models that are not for generation at all.

Pure data, read by ``pantry.identify.other_models`` and ``pantry.identify.adapters``. Key
names are as the published files spell them (checked against the model classes where a
library has one; see ``tests/identify/build_other_layouts.py``).
"""

from __future__ import annotations

# Wrappers that BasicSR-style trainers (ESRGAN, SwinIR, GFPGAN, CodeFormer) save weights under.
RESTORATION_ROOTS = ("", "params_ema.", "params.", "module.", "model.", "net_g.")

# --- Upscalers: first key present names the family ---------------------------------------------

UPSCALER_FAMILIES: tuple[tuple[str, str], ...] = (
    ("model.1.sub.0.RDB1.conv1.0.weight", "ESRGAN (original RRDB layout)"),
    ("RRDB_trunk.0.RDB1.conv1.weight", "ESRGAN (RRDBNet)"),
    ("body.0.rdb1.conv1.weight", "Real-ESRGAN (RRDBNet)"),
    ("layers.0.residual_group.blocks.0.conv_block.cab.0.weight", "HAT"),
    ("layers.0.residual_group.blocks.0.norm1.weight", "SwinIR"),
    ("block_1.c1_r.sk.weight", "SPAN"),
    ("m_head.0.weight", "SCUNet"),
    ("conv_first.weight", "super-resolution network (conv_first: SwinIR/DAT/HAT family)"),
)
# Real-ESRGAN's compact net (realesr-general-x4v3, realesr-animevideov3) is a plain
# Sequential: only "body.N.weight/bias", the first a 3-channel convolution.
COMPACT_UPSCALER_PREFIX = "body."
COMPACT_UPSCALER_FIRST = "body.0.weight"

# --- Face restorers --------------------------------------------------------------------------

# (decisive keys, all needed; name). CodeFormer shares quantize.embedding with every VQGAN, so
# it also needs its code-prediction head.
FACE_RESTORERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("stylegan_decoder.constant_input.weight",), "GFPGAN"),
    (("stylegan_decoder.style_mlp.1.weight",), "GFPGAN"),
    (("quantize.embedding.weight", "idx_pred_layer.0.weight"), "CodeFormer"),
)
# A VAE-shaped file with a codebook is a vector-quantised autoencoder, not a KL VAE that
# diffusion models decode with (RestoreFormer face restorers and VQGANs are built this way).
VQ_CODEBOOK_KEYS = ("quantize.embedding.weight", "vqvae.quantize.embedding.weight")

# --- CLIP vision encoders --------------------------------------------------------------------

# (patch embedding key, projection key, layout). The patch embedding is [width, 3, p, p].
CLIP_VISION_LAYOUTS: tuple[tuple[str, str, str], ...] = (
    ("vision_model.embeddings.patch_embedding.weight", "visual_projection.weight", "transformers"),
    ("visual.conv1.weight", "visual.proj", "open_clip"),
)
CLIP_VISION_PARTS = ("vision_model.", "visual_projection.", "visual.")
# Vision tower width -> the encoder people know it as.
CLIP_VISION_WIDTHS: dict[int, str] = {
    768: "CLIP ViT-B",
    1024: "CLIP ViT-L/14",
    1152: "SigLIP so400m",
    1280: "CLIP ViT-H/14",
    1664: "CLIP ViT-bigG/14",
}

# --- AnimateDiff motion modules --------------------------------------------------------------

MOTION_MODULE_MARKER = ".motion_modules."
MOTION_MODULE_PREFIXES = ("down_blocks.0.", "mid_block.", "up_blocks.0.")
# SD1.5 UNets have four down levels (the last without attention), SDXL three: a motion module
# has a block at each level of the UNet it was trained with.
MOTION_DOWN_LEVELS_BASE: dict[int, str] = {4: "sd1", 3: "sdxl"}

# --- IP-Adapter image projections ------------------------------------------------------------

# (key under image_proj., adapter type, what the key's input width is).
IP_ADAPTER_PROJECTIONS: tuple[tuple[str, str, str], ...] = (
    ("perceiver_resampler.proj_in.weight", "faceid-plus", "hidden"),
    ("latents", "plus", "hidden"),
    ("proj.0.weight", "full-face", "hidden"),
    ("proj.weight", "standard", "embeds"),
)
# Input width of the image projection -> the image encoder the adapter needs.
IP_ADAPTER_ENCODERS: dict[tuple[str, int], str] = {
    ("embeds", 1024): "CLIP ViT-H/14",
    ("embeds", 1280): "CLIP ViT-bigG/14",
    ("embeds", 768): "CLIP ViT-L/14",
    ("hidden", 1280): "CLIP ViT-H/14",
    ("hidden", 1664): "CLIP ViT-bigG/14",
    ("hidden", 1024): "CLIP ViT-L/14",
    ("face", 512): "InsightFace face embedding",
}
IP_ADAPTER_FACE_WIDTH = 512  # ArcFace embeddings (FaceID, InstantID)
IP_ADAPTER_LORA_MARKER = "_lora."  # FaceID bundles LoRA weights in its attention processors

# --- Models that are not for image generation ------------------------------------------------

# Pickle globals (module prefix) -> what the file is.
FOREIGN_GLOBALS: tuple[tuple[str, str], ...] = (
    ("ultralytics.", "an Ultralytics YOLO detection/segmentation model (ADetailer, Impact Pack)"),
)
# (decisive keys, all needed; what the file is). Keys are tried under FOREIGN_ROOTS.
FOREIGN_SIGNATURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("image_encoder.trunk.patch_embed.proj.weight", "sam_mask_decoder.iou_token.weight"),
        "a Segment Anything 2 (SAM 2) segmentation model",
    ),
    (
        ("image_encoder.patch_embed.proj.weight", "mask_decoder.hf_token.weight"),
        "a SAM-HQ segmentation model",
    ),
    (
        ("image_encoder.patch_embed.proj.weight", "mask_decoder.iou_token.weight"),
        "a Segment Anything (SAM) segmentation model",
    ),
    (
        ("quantize.embedding.weight", "decoder.conv_in.weight"),
        "a vector-quantised autoencoder (VQGAN; RestoreFormer face restorers are built so), "
        "not a VAE a diffusion model decodes with",
    ),
    (
        ("vqvae.quantize.embedding.weight",),
        "a vector-quantised autoencoder (RestoreFormer face restorer or VQGAN), "
        "not a VAE a diffusion model decodes with",
    ),
    (
        ("ClassHead.0.conv1x1.weight", "LandmarkHead.0.conv1x1.weight"),
        "a RetinaFace face detector (facexlib, used by GFPGAN/CodeFormer)",
    ),
)
FOREIGN_ROOTS = ("", "model.", "module.", "params_ema.", "state_dict.")

# --- Main-model look-alikes ------------------------------------------------------------------

# Kolors: an SDXL-shaped UNet conditioned on ChatGLM3 through a 4096 -> 2048 projection.
KOLORS_KEYS = ("encoder_hid_proj.weight",)
KOLORS_TEXT_WIDTH = 4096
# Lumina 2 reads Gemma-2-2B captions (2304 wide); Z-Image shares the layout with Qwen3 (2560).
LUMINA2_CAPTION_KEYS = ("cap_embedder.1.weight", "time_caption_embed.caption_embedder.1.weight")
LUMINA2_CAPTION_WIDTH = 2304
# Stable Cascade stage C (the prior) reads CLIP text; stage B (the decoder) reads EfficientNet.
CASCADE_STAGE_KEYS: tuple[tuple[str, str], ...] = (
    ("clip_txt_mapper.weight", "c"),
    ("effnet_mapper.0.weight", "b"),
)
# ComfyUI's diff ControlNets store the difference to a base model under this marker tensor.
DIFF_CONTROLNET_KEY = "difference"
