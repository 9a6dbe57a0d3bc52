"""Words: metadata spellings, architecture aliases, lineage names and style word lists.

Pure data. Matching is on lower-cased text; multi-word entries match as substrings, single
words as whole tokens (see ``pantry.identify.style``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pantry.identify.taxonomy import Base, Edition, Variant

# --- Normalised metadata: first present source key wins ---------------------------------------

METADATA_SOURCES: dict[str, tuple[str, ...]] = {
    "title": ("modelspec.title", "ss_output_name", "name"),
    "training_base": ("ss_sd_model_name", "sd_checkpoint_name"),
    "training_base_hash": ("ss_new_sd_model_hash", "ss_sd_model_hash", "sd_checkpoint"),
    "clip_skip": ("ss_clip_skip", "modelspec.encoder_layer"),
    "resolution": ("modelspec.resolution", "ss_resolution"),
    "architecture": ("modelspec.architecture",),
    "base_model_version": ("ss_base_model_version",),
    "network_module": ("ss_network_module",),
    "network_args": ("ss_network_args",),
    "network_dim": ("ss_network_dim",),
    "network_alpha": ("ss_network_alpha",),
    "author": ("modelspec.author",),
    "description": ("modelspec.description", "ss_training_comment"),
    "license": ("modelspec.license",),
    "prediction_type": ("modelspec.prediction_type", "modelspec.predict_key"),
    "tags": ("modelspec.tags",),
    "implementation": ("modelspec.implementation",),
    "training_images": ("ss_num_train_images",),
    "epochs": ("ss_epoch", "ss_num_epochs"),
    "steps": ("ss_steps", "step", "global_step"),
}
# Metadata keys whose value is a JSON document (kohya writes them as strings).
JSON_METADATA = ("ss_tag_frequency", "ss_dataset_dirs", "ss_network_args", "ss_datasets")
TOP_TAGS = 20  # how many training tags Identity.metadata["tag_frequency"] keeps
MAX_TRIGGER_WORDS = 5
MAX_TEXT = 500  # longer descriptions are cut (a thumbnail data: URL can be megabytes)

# --- Architecture ids (ModelSpec, kohya, OMI spellings) ------------------------------------

ADAPTER_SUFFIXES = ("lora", "vae", "textual-inversion", "controlnet", "control-lora", "lycoris")

# Normalised id (lower case, "." -> "-", adapter suffix removed) -> base, edition, variants.
ARCHITECTURES: dict[str, tuple[Base, Edition | None, tuple[Variant, ...]]] = {
    "stable-diffusion-v1": (Base.SD1, None, ()),
    "stable-diffusion-v1-5": (Base.SD1, None, ()),
    "stable-diffusion-v1-inpainting": (Base.SD1, None, (Variant.INPAINT,)),
    "stable-diffusion-v2": (Base.SD2, None, ()),
    "stable-diffusion-v2-512": (Base.SD2, Edition.SD2_512, ()),
    "stable-diffusion-v2-768-v": (Base.SD2, Edition.SD2_768_V, (Variant.V_PREDICTION,)),
    "stable-diffusion-v2-depth": (Base.SD2, None, (Variant.DEPTH,)),
    "stable-diffusion-v2-inpainting": (Base.SD2, None, (Variant.INPAINT,)),
    "stable-diffusion-v2-unclip-h": (Base.SD2, None, (Variant.UNCLIP,)),
    "stable-diffusion-v2-unclip-l": (Base.SD2, None, (Variant.UNCLIP,)),
    "stable-diffusion-xl-v1-base": (Base.SDXL, None, ()),
    "stable-diffusion-xl-v1": (Base.SDXL, None, ()),
    "stable-diffusion-xl-v1-refiner": (Base.SDXL_REFINER, None, ()),
    "stable-diffusion-xl-v1-edit": (Base.SDXL, None, (Variant.PIX2PIX,)),
    "stable-diffusion-xl-turbo-v1": (Base.SDXL, None, (Variant.TURBO,)),
    "stable-diffusion-v3-medium": (Base.SD3, Edition.SD3_MEDIUM, ()),
    "stable-diffusion-3-medium": (Base.SD3, Edition.SD3_MEDIUM, ()),
    "stable-diffusion-3-5-medium": (Base.SD3, Edition.SD35_MEDIUM, ()),
    "stable-diffusion-v3-5-medium": (Base.SD3, Edition.SD35_MEDIUM, ()),
    "stable-diffusion-3-5-large": (Base.SD3, Edition.SD35_LARGE, ()),
    "stable-diffusion-v3-5-large": (Base.SD3, Edition.SD35_LARGE, ()),
    "flux-1-dev": (Base.FLUX, Edition.FLUX_DEV, ()),
    "flux-1-schnell": (Base.FLUX, Edition.FLUX_SCHNELL, ()),
    "flux-1-fill-dev": (Base.FLUX, Edition.FLUX_DEV, (Variant.FILL,)),
    "flux-1": (Base.FLUX, None, ()),
    "flux-2-dev": (Base.FLUX2, None, ()),
    "flux-2": (Base.FLUX2, None, ()),
    "chroma": (Base.CHROMA, None, ()),
    "lumina-2": (Base.LUMINA2, None, ()),
    "stable-video-diffusion-img2vid-v1": (Base.SVD, None, ()),
    "stable-video-diffusion-img2vid-v0_9": (Base.SVD, None, ()),
    "stable-cascade-v1-stage-a": (Base.CASCADE, None, ()),
    "stable-cascade-v1-stage-b": (Base.CASCADE, None, ()),
    "stable-cascade-v1-stage-c": (Base.CASCADE, None, ()),
    "pixart-alpha": (Base.PIXART, None, ()),
    "pixart-sigma": (Base.PIXART, None, ()),
    "auraflow": (Base.AURAFLOW, None, ()),
    "hunyuan-dit": (Base.HUNYUAN_DIT, None, ()),
    # informal spellings seen in the wild
    "sd1": (Base.SD1, None, ()),
    "sd15": (Base.SD1, None, ()),
    "sd-1-5": (Base.SD1, None, ()),
    "sd2": (Base.SD2, None, ()),
    "sdxl": (Base.SDXL, None, ()),
    "sd3": (Base.SD3, None, ()),
    "flux": (Base.FLUX, None, ()),
}

# kohya ss_base_model_version (after a trailing "_v" v-parameterisation marker is removed).
BASE_MODEL_VERSIONS: dict[str, tuple[Base, Edition | None]] = {
    "sd_v1": (Base.SD1, None),
    "sd_v2": (Base.SD2, None),
    "sdxl_base_v1-0": (Base.SDXL, None),
    "sdxl_base_v0-9": (Base.SDXL, None),
    "sdxl_refiner_v1-0": (Base.SDXL_REFINER, None),
    "flux1": (Base.FLUX, None),
    "flux": (Base.FLUX, None),
    "chroma": (Base.CHROMA, None),
    "lumina2": (Base.LUMINA2, None),
    "medium": (Base.SD3, Edition.SD3_MEDIUM),
    "5-medium": (Base.SD3, Edition.SD35_MEDIUM),
    "5-large": (Base.SD3, Edition.SD35_LARGE),
}
BASE_MODEL_VERSION_PREFIXES: tuple[tuple[str, Base], ...] = (
    ("sdxl_refiner", Base.SDXL_REFINER),
    ("sdxl", Base.SDXL),
    ("sd_v1", Base.SD1),
    ("sd_v2", Base.SD2),
    ("flux", Base.FLUX),
    ("sd3", Base.SD3),
)
# Architecture id families whose newer members pantry has no exact entry for (Flux.1 Kontext,
# "sd3.5" spelt informally): the base is certain, the release is not.
ARCHITECTURE_PREFIXES: tuple[tuple[str, Base], ...] = (
    ("flux-1-", Base.FLUX),
    ("stable-diffusion-v3-", Base.SD3),
    ("stable-diffusion-3-", Base.SD3),
    ("sd3", Base.SD3),
)
# kohya booleans are written with str(): "True" / "False".
TRUE_VALUES = frozenset({"true", "1", "yes"})
V_PREDICTION_VALUES = frozenset({"v", "v_prediction", "v-prediction", "vpred", "v_pred"})

# Structure may see a parent family that metadata names more precisely.
REFINEMENTS: frozenset[tuple[Base, Base]] = frozenset({(Base.FLUX, Base.CHROMA)})

# --- Lineage (fine-tune families): names only ever come from metadata -----------------------


@dataclass(frozen=True)
class LineageWords:
    """How a training base or title names a family, and the base every member has.

    ``in_names`` are searched as substrings of file names and model ids, which glue words
    together ("ponyDiffusionV6XL"); ``in_titles`` must be whole words or phrases of free text,
    where a bare "pony" is as likely My Little Pony as Pony Diffusion.
    """

    lineage: str
    base: Base
    in_names: tuple[str, ...]
    in_titles: tuple[str, ...]


# Checked in order: NoobAI is trained from Illustrious (and its file names say "NAIXL"), so
# its words come first; NovelAI's leaked SD1 model is "animefull-final-pruned".
LINEAGES: tuple[LineageWords, ...] = (
    LineageWords(
        "noobai",
        Base.SDXL,
        ("noobai", "noob-ai", "noob_ai", "noobxl"),
        ("noobai", "noob-ai", "noob_ai", "noobxl", "noob ai"),
    ),
    LineageWords(
        "illustrious",
        Base.SDXL,
        ("illustrious",),
        ("illustrious", "illustriousxl", "ilxl", "illustrious xl"),
    ),
    LineageWords(
        "pony",
        Base.SDXL,
        ("pony",),
        ("ponyxl", "pdxl", "ponydiffusion", "pony diffusion", "pony xl", "ponyv6", "pony v6"),
    ),
    LineageWords("novelai", Base.SD1, ("animefull", "novelai"), ("novelai", "animefull")),
)
LINEAGE_BASES: dict[str, Base] = {entry.lineage: entry.base for entry in LINEAGES}
# Metadata keys naming the training base: file names or hub ids, searched for in_names.
LINEAGE_NAME_SOURCES = ("ss_sd_model_name", "sd_checkpoint_name")
# Free-text keys, weaker: searched for in_titles only.
LINEAGE_TITLE_SOURCES = ("modelspec.title", "modelspec.tags", "ss_output_name")
LINEAGE_SOURCES = LINEAGE_NAME_SOURCES + LINEAGE_TITLE_SOURCES

# Well-known training bases, as kohya's ss_sd_model_name spells them (a file name or a Hugging
# Face id, matched as lower-case substrings). Used only when the tensors name no base.
TRAINING_BASE_NAMES: tuple[tuple[str, Base], ...] = (
    ("stable-diffusion-xl-base", Base.SDXL),
    ("sd_xl_base", Base.SDXL),
    ("stable-diffusion-v1-5", Base.SD1),
    ("stable-diffusion-v1-4", Base.SD1),
    ("v1-5-pruned", Base.SD1),
    ("sd-v1-4", Base.SD1),
    ("sd-v1-5", Base.SD1),
    ("stable-diffusion-2-1", Base.SD2),
    ("stable-diffusion-2-base", Base.SD2),
    ("v2-1_768", Base.SD2),
    ("v2-1_512", Base.SD2),
    ("flux.1-dev", Base.FLUX),
    ("flux1-dev", Base.FLUX),
    ("flux.1-schnell", Base.FLUX),
    ("flux1-schnell", Base.FLUX),
    ("stable-diffusion-3", Base.SD3),
    ("sd3_medium", Base.SD3),
    ("sd3.5_", Base.SD3),
)

# --- Style hints ------------------------------------------------------------------------------

ANIME_WORDS = frozenset(
    {
        "anime",
        "manga",
        "1girl",
        "1boy",
        "2girls",
        "solo",
        "illustration",
        "cartoon",
        "chibi",
        "waifu",
        "2d",
        "cel shading",
        "toon",
        "hentai",
        "danbooru",
        "animagine",
        "kawaii",
    }
)
PHOTO_WORDS = frozenset(
    {
        "photo",
        "photograph",
        "photography",
        "realistic",
        "photorealistic",
        "photorealism",
        "raw photo",
        "realism",
        "dslr",
        "film grain",
        "hyperrealistic",
        "real",
        "cinematic photo",
        "analog",
        "35mm",
    }
)
# Lineages whose outputs are anime/cartoon by default.
LINEAGE_STYLE = {"pony": "anime", "illustrious": "anime", "noobai": "anime", "novelai": "anime"}
# A style from training tags needs this share of the counted style-tag occurrences.
STYLE_MAJORITY = 0.6

# Booru tags that describe almost any character image: never a LoRA's trigger word.
GENERIC_TAGS = frozenset(
    {
        "1girl",
        "1boy",
        "2girls",
        "solo",
        "looking at viewer",
        "smile",
        "simple background",
        "white background",
        "upper body",
        "full body",
        "portrait",
        "open mouth",
        "closed mouth",
        "blush",
        "long hair",
        "short hair",
        "breasts",
        "standing",
        "outdoors",
        "indoors",
        "day",
        "sky",
        "shirt",
        "jewelry",
        "realistic",
        "photorealistic",
        "photo",
        "masterpiece",
        "best quality",
        "high quality",
        "highres",
        "absurdres",
        "a photo of",
        "woman",
        "man",
        "girl",
        "boy",
        "person",
    }
)
# A tag in at least this share of captions (of the most frequent tag's count) is a trigger
# candidate: trainers put the activation token in every caption.
TRIGGER_MIN_SHARE = 0.5


# GGUF ``general.architecture`` as ComfyUI-GGUF's converter writes it for diffusion models.
# The converter guesses it from the keys, so it is metadata, not proof.
GGUF_ARCHITECTURES: dict[str, Base] = {
    "flux": Base.FLUX,
    "sd1": Base.SD1,
    "sdxl": Base.SDXL,
    "sd3": Base.SD3,
    "aura": Base.AURAFLOW,
    "lumina2": Base.LUMINA2,
    "chroma": Base.CHROMA,
}
