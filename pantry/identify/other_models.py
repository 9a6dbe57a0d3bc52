"""Matchers for the rest of a model folder: upscalers, face restorers, CLIP vision encoders,
AnimateDiff motion modules, and models that are not for image generation at all (detectors,
segmenters), which stay ``unknown`` with a reason that names them.
"""

from __future__ import annotations

import re

from pantry.identify.context import Context
from pantry.identify.identity import Identity
from pantry.identify.meta import base_from_metadata, raw_metadata
from pantry.identify.other_signatures import (
    CLIP_VISION_LAYOUTS,
    CLIP_VISION_PARTS,
    CLIP_VISION_WIDTHS,
    COMPACT_UPSCALER_FIRST,
    COMPACT_UPSCALER_PREFIX,
    FACE_RESTORERS,
    FOREIGN_GLOBALS,
    FOREIGN_ROOTS,
    FOREIGN_SIGNATURES,
    MOTION_DOWN_LEVELS_BASE,
    MOTION_MODULE_MARKER,
    MOTION_MODULE_PREFIXES,
    RESTORATION_ROOTS,
    UPSCALER_FAMILIES,
)
from pantry.identify.taxonomy import Base, Confidence, Kind
from pantry.identify.verdict import LIKELY, BaseClaim, Claim, settle_base

# A lone component makes up at least this share of the file (else it is part of something).
MIN_SHARE = 0.8
_DOWN_LEVEL = re.compile(r"^down_blocks\.(\d+)\.motion_modules\.")


class UpscalerMatcher:
    name = "upscaler"

    def claim(self, ctx: Context) -> Claim | None:
        for key, family in UPSCALER_FAMILIES:
            hit = ctx.keys.find(key, RESTORATION_ROOTS)
            if hit is not None:
                return Claim(Kind.UPSCALER.value, 1.0, f"{hit[0]}{key} ({family})", family)
        for root in RESTORATION_ROOTS:
            if _compact_upscaler(ctx, root):
                family = "Real-ESRGAN compact (SRVGGNet)"
                return Claim(Kind.UPSCALER.value, 1.0, f"plain {root}body.N convolutions", family)
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        _pixel_space(ident, claim.found, "upscaler")


class FaceRestorerMatcher:
    name = "face restorer"

    def claim(self, ctx: Context) -> Claim | None:
        for keys, family in FACE_RESTORERS:
            for root in RESTORATION_ROOTS:
                if all(ctx.keys.has(root + k) for k in keys):
                    fact = f"{root}{keys[0]} ({family} face restoration)"
                    return Claim(Kind.FACE_RESTORER.value, 1.0, fact, family)
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        _pixel_space(ident, claim.found, "face restorer")


class ClipVisionMatcher:
    """CLIP image encoders (ComfyUI ``clip_vision``): the vision tower, without the text one."""

    name = "clip vision"

    def claim(self, ctx: Context) -> Claim | None:
        keys = ctx.keys
        for patch_key, projection_key, layout in CLIP_VISION_LAYOUTS:
            patch = keys.get(patch_key)
            if patch is None or len(patch.shape) != 4:
                continue
            share = sum(keys.count_prefix(p) for p in CLIP_VISION_PARTS) / len(keys)
            score = 1.0 if share >= MIN_SHARE else 0.3
            fact = f"{layout} vision tower ({patch_key})"
            return Claim(Kind.CLIP_VISION.value, score, fact, (patch_key, projection_key))
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        patch_key, projection_key = claim.found
        width = ctx.keys.get(patch_key).shape[0]
        name = CLIP_VISION_WIDTHS.get(width, f"a {width}-wide vision transformer")
        ident.metadata["image_encoder"] = name
        ident.add("kind", f"vision width {width}: {name}")
        projection = ctx.keys.get(projection_key)
        if projection is None:
            ident.add("kind", "no image projection: hidden states only (SigLIP / Redux style)")
        # ViT-H serves SD1.5 and SDXL IP-Adapters, SD2 unCLIP and SVD alike: no base
        ident.confidence = Confidence.HIGH.value
        ident.add("base", "image encoders are shared by several bases: not tied to one")


class MotionModuleMatcher:
    """AnimateDiff motion modules: temporal transformers at each level of an SD UNet."""

    name = "motion module"

    def claim(self, ctx: Context) -> Claim | None:
        keys = ctx.keys
        if not any(keys.has_prefix(p + MOTION_MODULE_MARKER[1:]) for p in MOTION_MODULE_PREFIXES):
            return None
        motion = sum(1 for k in keys.sorted if MOTION_MODULE_MARKER in k)
        # motion LoRAs patch a motion module: the LoRA matcher describes them better
        whole = motion / len(keys) >= MIN_SHARE and ctx.lora.share < MIN_SHARE
        return Claim(
            Kind.MOTION_MODULE.value, 1.0 if whole else 0.3, f"{motion} motion_modules tensors"
        )

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        levels = {int(m.group(1)) for k in ctx.keys.sorted if (m := _DOWN_LEVEL.match(k))}
        structure = None
        count = max(levels) + 1 if levels else 0
        base = MOTION_DOWN_LEVELS_BASE.get(count)
        if base is not None:
            fact = f"motion modules at {count} down levels: made for {base} UNets"
            structure = BaseClaim(Base(base), fact, "structure", LIKELY)
        if ctx.keys.has_prefix("mid_block" + MOTION_MODULE_MARKER):
            ident.add("kind", "has a mid-block motion module (AnimateDiff v2 or later)")
        pe = next((k for k in ctx.keys.sorted if k.endswith(".pe")), None)
        if pe is not None and len(ctx.keys.get(pe).shape) == 3:
            ident.metadata["max_frames"] = ctx.keys.get(pe).shape[1]
        settle_base(
            ident,
            structure,
            base_from_metadata(raw_metadata(ctx.header)),
            f"motion modules at {count} down levels match no known UNet",
        )


class ForeignModelMatcher:
    """Files found in model folders that generate nothing: kept "unknown", named in the reason."""

    name = "not a generation model"

    def claim(self, ctx: Context) -> Claim | None:
        for prefix, what in FOREIGN_GLOBALS:
            hit = next((g for g in ctx.header.pickle_globals if g.startswith(prefix)), None)
            if hit is not None:
                return Claim(Kind.UNKNOWN.value, 1.0, f"pickle imports {hit}", what)
        for keys, what in FOREIGN_SIGNATURES:
            for root in FOREIGN_ROOTS:
                if all(ctx.keys.has(root + k) for k in keys):
                    return Claim(Kind.UNKNOWN.value, 1.0, f"{root}{keys[0]} present", what)
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        ident.base = Base.UNKNOWN.value
        ident.confidence = Confidence.NONE.value
        ident.reason = f"{claim.found}: not an image generation model ({claim.fact})"


def _compact_upscaler(ctx: Context, root: str) -> bool:
    first = ctx.keys.get(root + COMPACT_UPSCALER_FIRST)
    if first is None or len(first.shape) != 4 or first.shape[1] != 3:
        return False
    return ctx.keys.count_prefix(root + COMPACT_UPSCALER_PREFIX) == len(ctx.keys)


def _pixel_space(ident: Identity, family: str, what: str) -> None:
    # pixel-space networks work on any base's images: "unknown" base is the answer, not a gap
    ident.metadata["family"] = family
    ident.confidence = Confidence.HIGH.value
    ident.add("base", f"pixel-space {what} ({family}): not tied to a base model")
