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
    "sd3": "sd3",
    "flux": "flux",
    "chroma": "flux",  # Chroma is built on Flux schnell and uses its autoencoder
}

# VAE families that an undecided VAE (same shapes, no hash or metadata) may belong to and
# still be accepted without a word. SD1 and SDXL VAEs cannot be told apart by shape, and most
# such files in the wild (kl-f8-anime2, blessed2, ...) carry no hash pantry knows: warning on
# every one would bury real problems. SD3 and Flux VAEs share shapes too, but their latent
# scale and shift differ so much that the wrong one decodes to garbage: those are reported.
UNDECIDED_VAE_ACCEPTED: frozenset[frozenset[str]] = frozenset({frozenset({"sd", "sdxl"})})

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
# count. SD1: CLIP ViT-L/14, 12 layers. SD2: OpenCLIP ViT-H/14 has 24, but SD2 was trained on
# the penultimate one and its converted text encoder (diffusers, pantry) keeps 23. SDXL: the
# renderer reads layer N+1 from the end of CLIP-L's 12 (SDXL already starts at the penultimate).
CLIP_SKIP_MAX: dict[str, int] = {"sd1": 12, "sd2": 23, "sdxl": 11}

# Bases where "clip skip" is not what it is on SD1, and what to tell the user (PT402).
CLIP_SKIP_NOTES: dict[str, str] = {
    "sd2": (
        "SD2 already uses the penultimate OpenCLIP layer; A1111 ignores clip skip on SD2, "
        "diffusers, ComfyUI and pantry skip further layers, so results differ between tools"
    ),
    "sdxl": (
        "SDXL already uses the penultimate layer; A1111 and Forge ignore clip skip on SDXL, "
        "diffusers, ComfyUI and pantry skip further layers, so results differ between tools"
    ),
    "sdxl_refiner": "the SDXL refiner already uses the penultimate layer; A1111 ignores clip skip",
    "sd3": "SD3 leans on T5 and already reads penultimate CLIP layers; clip skip means little",
    "flux": "Flux reads T5 and only the pooled CLIP output; clip skip means nothing there",
    "flux2": "Flux.2 has no CLIP text encoder; clip skip means nothing there",
    "chroma": "Chroma reads T5 only; clip skip means nothing there",
}

# Bases whose text encoder clip skip 2 was made for, when a lineage or metadata says so. On
# SDXL "clip skip 2" (Pony, Illustrious) is what every tool already does, so it is not asked.
CLIP_SKIP_MATTERS = frozenset({"sd1", "sd2"})

# Lineages made for clip skip 2: NovelAI's leaked model and its descendants.
CLIP_SKIP_2_LINEAGES = frozenset({"novelai", "nai"})

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
# 832x1216 is 0.96; SDXL at 512x512 is 0.25 and falls apart). Flux holds up from about
# a quarter to four times its native megapixel.
SIZE_RATIO_RANGE = (0.5, 2.5)
SIZE_RATIO_RANGE_BY_BASE: dict[str, tuple[float, float]] = {
    "flux": (0.25, 4.0),
    "flux2": (0.25, 4.0),
    "chroma": (0.25, 4.0),
}

# Width/height must be multiples of the VAE's downsampling (8); diffusers refuses other sizes.
# Transformers that patchify 2x2 latents need 16: SD3, AuraFlow and Lumina 2 refuse other
# sizes (PT404), Flux-family pipelines round them down with a log line (PT413).
DEFAULT_SIZE_MULTIPLE = 8
SIZE_MULTIPLE_REQUIRED: dict[str, int] = {"sd3": 16, "auraflow": 16, "lumina2": 16}
SIZE_MULTIPLE_ROUNDED: dict[str, int] = {"flux": 16, "flux2": 16, "chroma": 16}

# Sane step and CFG ranges. Distilled models (few-step, guidance baked in) want few steps and
# CFG about 1; Flux dev takes its ~3.5 guidance through a separate distilled-guidance input.
STEPS_RANGE = (10, 100)
STEPS_RANGE_DISTILLED = (1, 12)
STEPS_RANGE_BY_EDITION: dict[str, tuple[int, int]] = {"schnell": (1, 4)}  # Flux schnell: 1-4
CFG_RANGE = (2.0, 15.0)
CFG_RANGE_DISTILLED = (1.0, 2.0)
DISTILLED_EDITIONS = frozenset({"schnell", "dev"})  # Flux editions; both want CFG 1
FEW_STEP_EDITIONS = frozenset({"schnell"})
FEW_STEP_VARIANTS = frozenset({"turbo"})
FEW_STEP_SAMPLERS = frozenset({"lcm"})

# Few-step distillations that ship as checkpoints or LoRAs, recognised by whole words of the
# file name or title (split at punctuation and camelCase): LCM, SDXL Turbo, SDXL Lightning,
# Hyper-SD, TCD, DMD2, Flux schnell. "hyper" alone is not enough ("hyperRealism"): Hyper-SD
# names pair it with "sd"/"sdxl"/"flux".
FEW_STEP_WORDS = frozenset({"lcm", "turbo", "lightning", "tcd", "dmd2", "schnell"})
FEW_STEP_WORD_PAIRS = frozenset({("hyper", "sd"), ("hyper", "sdxl"), ("hyper", "flux")})

LORA_WEIGHT_RANGE = (-2.0, 2.0)

# Sampler and scheduler names live in pantry.recipes.samplers (one table for the project).

# --- prompt -------------------------------------------------------------------------------

# One CLIP chunk: 77 positions minus the start and end tokens.
CHUNK_TOKENS = 75

# Bases whose prompt reaches the image through T5, CLIP giving only a pooled vector of its
# first 77 tokens: CLIP chunks do not apply. The value is the T5 length diffusers reads
# (max_sequence_length); the rest of the prompt is dropped. Flux schnell was trained at 256.
T5_PROMPT_TOKENS: dict[str, int] = {"flux": 512, "chroma": 512}
T5_PROMPT_TOKENS_BY_EDITION: dict[str, int] = {"schnell": 256}
# Bases with no CLIP text encoder at all (CLIP token counts say nothing about them).
NO_CLIP_BASES = frozenset({"flux2"})

# Identity evidence about trigger words, and the sources that mean the file (or the user)
# declared them, rather than pantry guessing them from training-tag frequency.
TRIGGER_EVIDENCE = "trigger_words"
DECLARED_TRIGGER_SOURCES = frozenset({"metadata", "user"})

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

# Style claims that are guesses: a mismatch between two of them is not reported (two file
# names disagree more often by accident than by fact), and a lineage alone never is (Pony and
# Illustrious have photoreal fine-tunes that keep the lineage).
WEAK_STYLE_SOURCES = frozenset({"name", "lineage"})
LINEAGE_STYLE_SOURCE = "lineage"
