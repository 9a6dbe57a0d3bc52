"""The offline configs and tokenizers bundled with pantry, so no checkpoint ever needs the Hub.

``configs/<name>/`` holds what ``from_single_file(config=...)`` reads: model_index.json, each
component's config.json and the scheduler config, copied from the published SD 1.5, SD 2.1
(512 epsilon and 768 v-prediction) and SDXL base repositories. Tokenizers are not copied
there: all of them are the one CLIP BPE vocabulary in ``pantry/data/clip_tokenizer`` and are
passed to the loader explicitly (OpenCLIP's encoders pad with "!" instead of end-of-text).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pantry.errors import RenderError

CONFIG_ROOT = Path(__file__).parent / "configs"
TOKENIZER_DIR = Path(__file__).parent.parent / "data" / "clip_tokenizer"

# (base, variant or edition) -> bundled config folder; None matches any variant
CONFIG_FOR_BASE: dict[tuple[str, str | None], str] = {
    ("sd1", None): "sd1",
    ("sd2", "v_prediction"): "sd2_v",
    ("sd2", "768_v"): "sd2_v",
    ("sd2", None): "sd2_512",
    ("sdxl", None): "sdxl",
}
# Text encoders whose tokenizer pads with "!" (token 0): OpenCLIP-trained ones.
OPEN_CLIP_PAD = "!"


def config_dir(base: str, variant: str | None = None) -> Path:
    """The bundled diffusers config folder for a base (``variant`` picks SD2 512 vs 768-v)."""
    name = CONFIG_FOR_BASE.get((base, variant)) or CONFIG_FOR_BASE.get((base, None))
    if name is None:
        supported = ", ".join(sorted({b for b, _ in CONFIG_FOR_BASE}))
        raise RenderError(
            f"cannot render base {base!r}: the built-in renderer supports {supported}"
        )
    return CONFIG_ROOT / name


@cache
def load_tokenizer(open_clip: bool = False):
    """The bundled CLIP tokenizer; ``open_clip`` gives the SD2 / SDXL-second-encoder padding.

    Built once per process (about 40 ms each) and shared by every pipeline pantry loads: pantry
    never adds tokens to it (embeddings are placed by ``pantry.render.prompts``).
    """
    from transformers import CLIPTokenizer

    extra = {"pad_token": OPEN_CLIP_PAD} if open_clip else {}
    return CLIPTokenizer.from_pretrained(str(TOKENIZER_DIR), local_files_only=True, **extra)
