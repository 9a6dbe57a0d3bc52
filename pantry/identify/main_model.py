"""Checkpoints and bare diffusion models: base, edition, variants and components.

A file is a *checkpoint* when it holds a diffusion model and at least one of its VAE or text
encoders (the missing ones are listed, so lint can flag a checkpoint without a VAE); a file
with the diffusion model alone is a *diffusion_model* (e.g. Flux ``flux1-dev.safetensors``,
a UNet extracted for ComfyUI's UNETLoader).
"""

from __future__ import annotations

from dataclasses import dataclass

from pantry.formats.header import TensorInfo
from pantry.identify.context import Context, KeyIndex
from pantry.identify.identity import Identity
from pantry.identify.meta import base_from_metadata, raw_metadata
from pantry.identify.other_signatures import (
    CASCADE_STAGE_KEYS,
    KOLORS_KEYS,
    KOLORS_TEXT_WIDTH,
    LUMINA2_CAPTION_KEYS,
    LUMINA2_CAPTION_WIDTH,
)
from pantry.identify.signatures import (
    COMPONENT_PREFIXES,
    CONTEXT_DIM_BASE,
    CROSS_ATTN_KEYS,
    DIFFUSION_ROOTS,
    EXPECTED_COMPONENTS,
    FLUX_GUIDANCE_KEYS,
    FLUX_IMG_IN_KEYS,
    FLUX_IMG_IN_VARIANT,
    IN_CHANNEL_KEYS,
    IN_CHANNEL_VARIANTS,
    MAIN_SIGNATURES,
    MARKER_TENSORS,
    OPTIONAL_COMPONENTS,
    PLAYGROUND_MARKERS,
    POSITION_IDS_KEYS,
    SD2_GLOBAL_STEP_EDITION,
    SD3_LARGE_KEYS,
    SD3_MMDITX_KEYS,
    SD3_POS_EMBED_EDITION,
    SD3_POS_EMBED_KEYS,
    UNCLIP_KEYS,
    ZERO123_KEY,
    ArchSignature,
)
from pantry.identify.taxonomy import Base, Component, Confidence, Edition, Kind, Variant
from pantry.identify.verdict import DECISIVE, BaseClaim, Claim, add_variant, settle_base
from pantry.identify.vocab import MAX_TEXT

# Above this share of LoRA-shaped tensors a file is an adapter that happens to carry a few
# model weights (e.g. a Flux control LoRA with its norm scales), not a model.
MAX_ADAPTER_SHARE = 0.5
# Metadata whose words may say canny vs depth for a 128-channel Flux control model.
CONTROL_VARIANT_TEXT_KEYS = ("modelspec.title", "modelspec.description", "modelspec.tags")
INTEGER_DTYPES = frozenset({"I64", "I32", "I16", "I8", "U8", "U16", "U32", "U64"})
PACKED_DTYPES = frozenset({"U8", "I8"})


@dataclass(frozen=True)
class MainFound:
    signature: ArchSignature
    root: str
    present: tuple[Component, ...]


class MainModelMatcher:
    """Says "mine" for files holding a complete diffusion model (UNet or DiT transformer)."""

    name = "main model"

    def claim(self, ctx: Context) -> Claim | None:
        keys = ctx.keys
        hit = find_architecture(keys)
        if hit is None or ctx.lora.share > MAX_ADAPTER_SHARE:
            return None
        signature, root = hit
        present = components_present(keys, root)
        kind = Kind.CHECKPOINT if len(present) > 1 else Kind.DIFFUSION_MODEL
        where = f" under {root!r}" if root else ""
        return Claim(kind.value, 1.0, signature.fact + where, MainFound(signature, root, present))

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        found: MainFound = claim.found
        keys = ctx.keys
        lookalike = _lookalike_reason(keys, found)
        structure = None if lookalike else _structure_claim(keys, found)
        raw = raw_metadata(ctx.header)
        settle_base(
            ident,
            structure,
            None if lookalike else base_from_metadata(raw),
            lookalike or "no known base has this UNet's shapes (cross-attention width, channels)",
        )
        if lookalike:
            _components(ident, found)
            return
        _variants(keys, found, ident)
        if ident.base == Base.SD2.value:
            _sd2_edition(ctx, ident)
        if ident.base == Base.FLUX.value and ident.variant == Variant.DEPTH.value:
            _flux_control_variant(ctx, ident)
        if ident.base == Base.CASCADE.value:
            _cascade_stage(keys, found.root, ident)
        _components(ident, found)
        _position_ids(keys, ident)


def find_architecture(keys: KeyIndex) -> tuple[ArchSignature, str] | None:
    """The first main-model signature whose keys are present, and the root they sit under."""
    for signature in MAIN_SIGNATURES:
        for root in DIFFUSION_ROOTS:
            if any(keys.has(root + k) for k in signature.any_of) and all(
                keys.has(root + k) for k in signature.all_of
            ):
                return signature, root
    return None


def components_present(keys: KeyIndex, root: str) -> tuple[Component, ...]:
    present = [Component.UNET]
    for entry in COMPONENT_PREFIXES:
        if entry.component not in present and keys.has_prefix(entry.prefix):
            # a bare "vae." / "model." root must not count the diffusion model as a component
            if root and entry.prefix.startswith(root):
                continue
            # training checkpoints keep "model_ema.decay"/"num_updates" even after EMA pruning
            if entry.component is Component.EMA and keys.count_prefix(entry.prefix) <= 2:
                continue
            present.append(entry.component)
    return tuple(present)


def _structure_claim(keys: KeyIndex, found: MainFound) -> BaseClaim | None:
    signature, root = found.signature, found.root
    if signature.base is not None:
        claim = BaseClaim(signature.base, signature.fact)
        if signature.base is Base.SD3:
            claim.edition = _sd3_edition(keys, root)
        if signature.base is Base.FLUX:
            claim.edition = _flux_edition(keys, root)
        return claim
    hit = keys.first(CROSS_ATTN_KEYS[signature.layout], root)
    if hit is None:
        return None
    name, info = hit
    width = info.shape[-1] if info.shape else 0
    base = CONTEXT_DIM_BASE.get(width)
    if base is None:
        return None
    fact = f"cross-attention context width {width} ({name}) means {base.value}"
    return BaseClaim(base, fact, "structure", DECISIVE)


def _lookalike_reason(keys: KeyIndex, found: MainFound) -> str | None:
    """Why a model with a known family's shapes is not of that family (else None)."""
    root = found.root
    hid = keys.first(KOLORS_KEYS, root)
    if hid is not None and hid[1].shape[-1:] == (KOLORS_TEXT_WIDTH,):
        return (
            "Kolors UNet: SDXL shapes, but it reads ChatGLM3 text through encoder_hid_proj "
            f"({KOLORS_TEXT_WIDTH} wide); pantry has no Kolors base, and SDXL parts do not fit it"
        )
    caption = keys.first(LUMINA2_CAPTION_KEYS, root)
    if (
        found.signature.base is Base.LUMINA2
        and caption is not None
        and len(caption[1].shape) == 2
        and caption[1].shape[1] != LUMINA2_CAPTION_WIDTH
    ):
        width = caption[1].shape[1]
        return (
            f"Lumina-style transformer reading {width}-wide captions; Lumina 2 reads "
            f"{LUMINA2_CAPTION_WIDTH} (Gemma-2), so this is another model (Z-Image uses 2560)"
        )
    return None


def _cascade_stage(keys: KeyIndex, root: str, ident: Identity) -> None:
    for key, stage in CASCADE_STAGE_KEYS:
        if keys.has(root + key):
            ident.metadata["cascade_stage"] = stage
            ident.add("edition", f"{key} present: Stable Cascade stage {stage.upper()}")
            return


def _sd3_edition(keys: KeyIndex, root: str) -> Edition | None:
    if keys.first(SD3_LARGE_KEYS, root):
        return Edition.SD35_LARGE
    if keys.first(SD3_MMDITX_KEYS, root):
        return Edition.SD35_MEDIUM
    hit = keys.first(SD3_POS_EMBED_KEYS, root)
    if hit and len(hit[1].shape) >= 2:
        return SD3_POS_EMBED_EDITION.get(hit[1].shape[1])
    return None


def _flux_edition(keys: KeyIndex, root: str) -> Edition:
    # guidance distillation adds a guidance embedder: dev has it, schnell does not
    return Edition.FLUX_DEV if keys.first(FLUX_GUIDANCE_KEYS, root) else Edition.FLUX_SCHNELL


def _variants(keys: KeyIndex, found: MainFound, ident: Identity) -> None:
    signature, root = found.signature, found.root
    if signature.base is Base.FLUX:
        ident.add(
            "edition", f"guidance embedder {'present' if ident.edition == 'dev' else 'absent'}"
        )
        hit = keys.first(FLUX_IMG_IN_KEYS, root)
        if hit and _packed(hit[1]):
            ident.add("variant", "img_in is quantised (packed bytes): its width cannot show fill")
        elif hit and len(hit[1].shape) == 2:
            width = hit[1].shape[1]
            variant = FLUX_IMG_IN_VARIANT.get(width)
            ident.add("variant", f"img_in takes {width} input features")
            if variant:
                add_variant(ident, variant)
    in_key = IN_CHANNEL_KEYS.get(signature.layout)
    if in_key and signature.base is not Base.SVD:
        info = keys.get(root + in_key)
        if info is not None and len(info.shape) == 4:
            channels = info.shape[1]
            variant = IN_CHANNEL_VARIANTS.get(channels)
            if variant is Variant.PIX2PIX and keys.has(ZERO123_KEY):
                ident.add("variant", "8 input channels with cc_projection: Stable Zero123")
            elif variant is not None:
                add_variant(ident, variant)
                ident.add("variant", f"UNet takes {channels} input channels ({variant.value})")
    if signature.layout == "ldm" and ident.base == Base.SD2.value:
        # only unCLIP gives an SD2 UNet a label embedding (the image embedding goes in there)
        hit = next((k for k in UNCLIP_KEYS if keys.has(k) or keys.has(root + k)), None)
        if hit is not None:
            add_variant(ident, Variant.UNCLIP)
            ident.add("variant", f"{hit} present (unCLIP image conditioning)")
    for marker, variants in MARKER_TENSORS.items():
        if keys.has(marker) or (root and keys.has(root + marker)):
            for variant in variants:
                add_variant(ident, variant)
            ident.add("variant", f"marker tensor {marker!r} present")
    if all(keys.has(m) for m in PLAYGROUND_MARKERS):
        ident.lineage = "playground"
        ident.add("lineage", "edm_mean/edm_std tensors: Playground v2.5 (SDXL shapes, EDM)")


def _sd2_edition(ctx: Context, ident: Identity) -> None:
    if ident.edition:
        return
    if Variant.V_PREDICTION.value in ident.variants:
        ident.edition = Edition.SD2_768_V.value
        ident.add("edition", "v-prediction means the 768-v release line", "metadata")
        return
    if ident.variants and ident.variant in (Variant.INPAINT, Variant.DEPTH, Variant.UPSCALE):
        ident.edition = Edition.SD2_512.value
        ident.add("edition", f"SD2 {ident.variant} models are 512 epsilon models")
        return
    step = ctx.header.extras.get("global_step")
    edition = SD2_GLOBAL_STEP_EDITION.get(step) if isinstance(step, int) else None
    if edition is not None:
        ident.edition = edition.value
        if edition is Edition.SD2_768_V:
            add_variant(ident, Variant.V_PREDICTION)
        ident.add("edition", f"global_step {step} matches the {edition.value} release", "structure")
        return
    ident.warnings.append(
        "SD2 512 (epsilon) and 768-v (v-prediction) cannot be told apart from shapes; "
        "edition unknown"
    )
    ident.add("edition", "unknown: SD2 512 and 768-v have identical shapes", "default")
    if ident.confidence == Confidence.HIGH.value:
        ident.confidence = Confidence.MEDIUM.value


def _flux_control_variant(ctx: Context, ident: Identity) -> None:
    # 128 input features are shared by Flux Depth and Flux Canny; only words tell them apart.
    # Name and title only: a ComfyUI "workflow" value may mention any preprocessor node.
    titles = (ctx.metadata.get(k) for k in CONTROL_VARIANT_TEXT_KEYS)
    text = " ".join([ctx.name, *(t[:MAX_TEXT] for t in titles if isinstance(t, str))]).lower()
    if "canny" in text and "depth" not in text:
        ident.variants = [
            Variant.CANNY.value if v == Variant.DEPTH.value else v for v in ident.variants
        ]
        ident.variant = Variant.CANNY.value
        ident.add("variant", "name/metadata says canny (shapes match depth and canny)", "name")
    elif "depth" not in text:
        ident.warnings.append("Flux control model: depth or canny (same shapes); assuming depth")
        ident.add("variant", "128-channel img_in: Flux Depth or Canny; assuming depth", "default")


def _packed(info: TensorInfo) -> bool:
    """bitsandbytes stores 4-bit weights as a [n, 1] column of bytes."""
    return info.dtype in PACKED_DTYPES or (len(info.shape) == 2 and info.shape[1] == 1)


def _position_ids(keys: KeyIndex, ident: Identity) -> None:
    """Merges that cast every tensor to float also cast CLIP's position ids, and rounding can
    shift them (76 -> 75.9975 -> 75): the text encoder then reads tokens out of place."""
    hit = keys.first(POSITION_IDS_KEYS)
    if hit is not None and hit[1].dtype not in INTEGER_DTYPES:
        name, info = hit
        ident.warnings.append(
            f"CLIP position_ids are stored as {info.dtype}, not integers (a merge artefact): "
            "their values may be off by one; tools such as model-toolkit can repair them"
        )
        ident.add("components", f"{name} has dtype {info.dtype} (float position ids)")


def _components(ident: Identity, found: MainFound) -> None:
    present = [c.value for c in found.present]
    ident.components["present"] = present
    try:
        base = Base(ident.base)
    except ValueError:
        return
    expected = EXPECTED_COMPONENTS.get(base, ())
    optional = OPTIONAL_COMPONENTS.get(base, ())
    if ident.kind == Kind.DIFFUSION_MODEL.value:
        ident.add("components", "diffusion model only: needs a separate VAE and text encoder(s)")
        return
    missing = [c.value for c in expected if c.value not in present and c not in optional]
    ident.components["missing"] = missing
    for component in optional:
        if component.value not in present:
            ident.add("components", f"no {component.value} (an optional part for {base.value})")
    if missing:
        ident.add("components", "lacks " + ", ".join(missing))


def structure_base(keys: KeyIndex) -> BaseClaim | None:
    """The base a bare diffusion model's keys say (used for diffusers folder components)."""
    hit = find_architecture(keys)
    if hit is None:
        return None
    return _structure_claim(keys, MainFound(hit[0], hit[1], (Component.UNET,)))
