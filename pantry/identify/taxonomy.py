"""The words pantry answers in. Every layer imports these; their values are the JSON schema."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    CHECKPOINT = "checkpoint"  # diffusion model + VAE + text encoder(s) in one asset
    DIFFUSION_MODEL = "diffusion_model"  # UNet / transformer only
    LORA = "lora"
    VAE = "vae"
    EMBEDDING = "embedding"  # textual inversion
    CONTROLNET = "controlnet"
    T2I_ADAPTER = "t2i_adapter"
    IP_ADAPTER = "ip_adapter"
    TEXT_ENCODER = "text_encoder"
    HYPERNETWORK = "hypernetwork"
    UPSCALER = "upscaler"
    FACE_RESTORER = "face_restorer"  # GFPGAN, CodeFormer: pixel-space, used after generation
    CLIP_VISION = "clip_vision"  # image encoder for IP-Adapter, unCLIP, SVD, style models
    MOTION_MODULE = "motion_module"  # AnimateDiff temporal layers added to an SD UNet
    UNKNOWN = "unknown"


class Base(StrEnum):
    SD1 = "sd1"
    SD2 = "sd2"
    SDXL = "sdxl"
    SDXL_REFINER = "sdxl_refiner"
    SD3 = "sd3"
    FLUX = "flux"
    FLUX2 = "flux2"
    SVD = "svd"
    CASCADE = "cascade"
    AURAFLOW = "auraflow"
    PIXART = "pixart"
    HUNYUAN_DIT = "hunyuan_dit"
    LUMINA2 = "lumina2"
    CHROMA = "chroma"
    UNKNOWN = "unknown"


# Finer release within a base (SD3 medium vs 3.5 large, Flux dev vs schnell, SD2 512 vs 768-v).
class Edition(StrEnum):
    SD3_MEDIUM = "medium"
    SD35_MEDIUM = "3.5_medium"
    SD35_LARGE = "3.5_large"
    FLUX_DEV = "dev"
    FLUX_SCHNELL = "schnell"
    SD2_512 = "512"
    SD2_768_V = "768_v"


class Variant(StrEnum):
    INPAINT = "inpaint"
    PIX2PIX = "pix2pix"
    DEPTH = "depth"
    FILL = "fill"  # Flux fill (in/outpainting)
    CANNY = "canny"
    UNCLIP = "unclip"
    UPSCALE = "upscale"
    V_PREDICTION = "v_prediction"
    ZTSNR = "ztsnr"
    EDM = "edm"
    TURBO = "turbo"


class LoraFormat(StrEnum):
    KOHYA = "kohya"
    DIFFUSERS = "diffusers"  # PEFT lora_A/lora_B or old attn-processor names
    LOCON = "lycoris-locon"
    LOHA = "lycoris-loha"
    LOKR = "lycoris-lokr"
    IA3 = "ia3"
    FULL = "lycoris-full"
    GLORA = "lycoris-glora"
    OFT = "oft"
    BOFT = "boft"
    DORA = "dora"
    XLABS = "xlabs"
    CONTROL_LORA = "control-lora"
    UNKNOWN = "unknown"


class Precision(StrEnum):
    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"
    FP8 = "fp8"
    FP4 = "fp4"
    NF4 = "nf4"  # bitsandbytes NormalFloat4 (packed into uint8 tensors)
    INT8 = "int8"
    # GGUF block quantisations (llama.cpp / ComfyUI-GGUF), named like their GGML types.
    Q4_0 = "q4_0"
    Q4_1 = "q4_1"
    Q5_0 = "q5_0"
    Q5_1 = "q5_1"
    Q8_0 = "q8_0"
    Q8_1 = "q8_1"
    Q2_K = "q2_k"
    Q3_K = "q3_k"
    Q4_K = "q4_k"
    Q5_K = "q5_k"
    Q6_K = "q6_k"
    Q8_K = "q8_k"
    IQ1_S = "iq1_s"
    IQ1_M = "iq1_m"
    IQ2_XXS = "iq2_xxs"
    IQ2_XS = "iq2_xs"
    IQ2_S = "iq2_s"
    IQ3_XXS = "iq3_xxs"
    IQ3_S = "iq3_s"
    IQ4_NL = "iq4_nl"
    IQ4_XS = "iq4_xs"
    TQ1_0 = "tq1_0"
    TQ2_0 = "tq2_0"
    MXFP4 = "mxfp4"
    NVFP4 = "nvfp4"
    Q1_0 = "q1_0"
    Q2_0 = "q2_0"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class Style(StrEnum):
    ANIME = "anime"
    PHOTOREAL = "photoreal"
    UNKNOWN = "unknown"


# Where a style claim came from, strongest first (user tag > metadata > training tags > name).
class StyleSource(StrEnum):
    USER = "user"
    METADATA = "metadata"
    TRAINING_TAGS = "training_tags"
    NAME = "name"
    LINEAGE = "lineage"


class Confidence(StrEnum):
    HIGH = "high"  # a decisive structural signature, or metadata that agrees with it
    MEDIUM = "medium"  # metadata alone, or a weaker structural signal
    LOW = "low"  # heuristics (names, defaults); shown as a guess
    NONE = "none"  # unknown


# Components a full checkpoint should hold.
class Component(StrEnum):
    UNET = "unet"  # or the transformer of DiT models
    VAE = "vae"
    TEXT_ENCODER = "text_encoder"  # CLIP-L for SD1, OpenCLIP-H for SD2, CLIP-L for SDXL/SD3/Flux
    TEXT_ENCODER_2 = "text_encoder_2"  # OpenCLIP-bigG for SDXL/refiner, CLIP-G for SD3
    TEXT_ENCODER_3 = "text_encoder_3"  # T5-XXL for SD3/Flux
    EMA = "ema"
