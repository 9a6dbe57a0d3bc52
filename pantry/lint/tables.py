"""Facts the rules compare against, kept as plain tables (bases are taxonomy.Base values)."""

from __future__ import annotations

# --- assets -------------------------------------------------------------------------------

# Kinds each recipe slot accepts. A bare diffusion model (UNet/transformer) may sit in the
# checkpoint slot; its missing VAE and text encoders are reported by their own rules.
SLOT_KINDS: dict[str, frozenset[str]] = {
    "checkpoint": frozenset({"checkpoint", "diffusion_model"}),
    "vae": frozenset({"vae"}),
    "lora": frozenset({"lora"}),
    "embedding": frozenset({"embedding"}),
    "controlnet": frozenset({"controlnet"}),
}

# --- compatibility ------------------------------------------------------------------------

# Bases whose VAEs share one latent space. SD2 was trained on the SD1 VAE; the SDXL refiner
# decodes with the SDXL VAE.
VAE_FAMILY: dict[str, str] = {
    "sd1": "sd",
    "sd2": "sd",
    "sdxl": "sdxl",
    "sdxl_refiner": "sdxl",
    "flux": "flux",
    "chroma": "flux",  # Chroma is built on Flux schnell and uses its autoencoder
}

# Latent channels the diffusion model of each base expects from its VAE.
LATENT_CHANNELS: dict[str, int] = {
    "sd1": 4,
    "sd2": 4,
    "sdxl": 4,
    "sdxl_refiner": 4,
    "auraflow": 4,
    "pixart": 4,
    "hunyuan_dit": 4,
    "sd3": 16,
    "flux": 16,
    "chroma": 16,
    "lumina2": 16,
    "flux2": 32,
}

# LoRA module coverage: below LOW is an error (most of the LoRA is dropped), below PARTIAL a
# warning (some blocks are not patched).
COVERAGE_LOW = 0.5
COVERAGE_PARTIAL = 0.95

# --- settings -----------------------------------------------------------------------------

# A1111 clip skip N uses the Nth-from-last text-encoder layer, so N may not exceed the layer
# count (SD1: CLIP ViT-L/14, 12 layers; SD2: OpenCLIP ViT-H/14, 24 layers).
CLIP_SKIP_MAX: dict[str, int] = {"sd1": 12, "sd2": 24}

# Bases where A1111's clip-skip setting changes nothing: SDXL already takes the penultimate
# layer; SD3 and Flux lean on T5 and pooled CLIP.
CLIP_SKIP_NO_EFFECT = frozenset({"sdxl", "sdxl_refiner", "sd3", "flux", "flux2", "chroma"})

# Lineages made for clip skip 2 (NovelAI-derived anime models and the SDXL anime families whose
# authors ask for it).
CLIP_SKIP_2_LINEAGES = frozenset({"novelai", "nai", "pony", "illustrious", "noobai"})

# Metadata keys where a model or LoRA records the clip skip it was trained with.
CLIP_SKIP_METADATA_KEYS = ("clip_skip", "ss_clip_skip", "modelspec.encoder_layer")

# Native training resolution (side of a square) per base; SD2 depends on the edition.
NATIVE_SIDE: dict[str, int] = {
    "sd1": 512,
    "sdxl": 1024,
    "sdxl_refiner": 1024,
    "sd3": 1024,
    "flux": 1024,
    "flux2": 1024,
    "chroma": 1024,
    "auraflow": 1024,
    "pixart": 1024,
    "hunyuan_dit": 1024,
    "lumina2": 1024,
    "cascade": 1024,
}
SD2_NATIVE_SIDE: dict[str, int] = {"512": 512, "768_v": 768}

# Pixel count relative to native² that still renders well (SD1 at 512x768 is 1.5; SDXL at
# 512x512 is 0.25 and falls apart).
SIZE_RATIO_RANGE = (0.5, 2.5)

# Width/height must be multiples of this (VAE downsampling 8; Flux packs 2x2 latent patches).
SIZE_MULTIPLE: dict[str, int] = {"flux": 16, "flux2": 16, "chroma": 16}
DEFAULT_SIZE_MULTIPLE = 8

# Sane step and CFG ranges. Distilled models (few-step, guidance baked in) want few steps and
# CFG about 1; Flux dev takes its ~3.5 guidance through a separate distilled-guidance input.
STEPS_RANGE = (10, 100)
STEPS_RANGE_DISTILLED = (1, 12)
CFG_RANGE = (2.0, 15.0)
CFG_RANGE_DISTILLED = (1.0, 2.0)
DISTILLED_EDITIONS = frozenset({"schnell", "dev"})  # Flux editions; both want CFG 1
FEW_STEP_EDITIONS = frozenset({"schnell"})
FEW_STEP_VARIANTS = frozenset({"turbo"})
FEW_STEP_SAMPLERS = frozenset({"lcm"})

LORA_WEIGHT_RANGE = (-2.0, 2.0)

# Sampler and scheduler names live in pantry.recipes.samplers (one table for the project).

# --- prompt -------------------------------------------------------------------------------

# One CLIP chunk: 77 positions minus the start and end tokens.
CHUNK_TOKENS = 75

# Pony Diffusion's quality tags; other checkpoints read them as noise.
PONY_TAGS = ("score_9", "score_8_up", "score_7_up", "score_6_up", "score_5_up", "score_4_up")

# --- style --------------------------------------------------------------------------------

# How to say where a style claim came from (identity StyleSource values).
STYLE_SOURCE_WORDS: dict[str, str] = {
    "user": "your tag",
    "metadata": "its metadata",
    "training_tags": "its training tags",
    "name": "its file name",
    "lineage": "its lineage",
}
