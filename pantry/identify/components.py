"""Single components: VAEs, text encoders and textual-inversion embeddings."""

from __future__ import annotations

from pantry.formats.header import TensorInfo
from pantry.identify.context import Context, KeyIndex
from pantry.identify.identity import Identity, VaeInfo
from pantry.identify.meta import base_from_metadata, raw_metadata
from pantry.identify.other_signatures import VQ_CODEBOOK_KEYS
from pantry.identify.signatures import (
    CASCADE_VAE_KEY,
    EMBEDDING_KEYS,
    EMBEDDING_MAX_LOOSE_TENSORS,
    EMBEDDING_MAX_VECTORS,
    EMBEDDING_PREFIX,
    EMBEDDING_SDXL_KEYS,
    EMBEDDING_WIDTH_BASE,
    KNOWN_SHA256,
    T5_KEYS,
    TAESD_KEYS,
    TEXT_ENCODER_ROOTS,
    TEXT_ENCODER_SIGNATURES,
    TEXT_ENCODER_WIDTHS,
    VAE_DECISIVE,
    VAE_FLUX2_KEY,
    VAE_LATENT_CANDIDATES,
    VAE_LATENT_KEY,
    VAE_ROOTS,
    VAE_TEMPORAL_KEY,
)
from pantry.identify.taxonomy import Base, Kind
from pantry.identify.verdict import DECISIVE, LIKELY, WEAK, BaseClaim, Claim, settle_base

# Text encoder widths a textual-inversion vector can have (CLIP-L, OpenCLIP-H/bigG, T5).
EMBEDDING_WIDTHS = frozenset({768, 1024, 1280, 4096})
# A file is a lone component when that component's keys make up this share of it.
MIN_COMPONENT_SHARE = 0.8
_VAE_PARTS = ("encoder.", "decoder.", "quant_conv.", "post_quant_conv.", "bn.")
# Name words that hint at a 4/16-channel VAE's base; a guess, never more (low confidence).
VAE_NAME_HINTS: tuple[tuple[tuple[str, ...], Base], ...] = (
    (("sdxl", "xl"), Base.SDXL),
    (("flux", "ae"), Base.FLUX),
    (("sd3", "sd35"), Base.SD3),
    (("sd15", "sd1", "mse", "ema", "kl"), Base.SD1),
)


class VaeMatcher:
    name = "vae"

    def claim(self, ctx: Context) -> Claim | None:
        keys = ctx.keys
        if keys.has(CASCADE_VAE_KEY):
            return Claim(Kind.VAE.value, 1.0, "vquantizer codebook (Stable Cascade stage A)", "")
        for key in TAESD_KEYS[:1]:
            if keys.has(key):
                return Claim(Kind.VAE.value, 1.0, "tiny autoencoder (TAESD)", "")
        for root in VAE_ROOTS:
            if any(keys.has(root + k) for k in VQ_CODEBOOK_KEYS):
                return None  # a VQ autoencoder: not a diffusion VAE (see other_signatures)
            if any(keys.has(root + k) for k in VAE_DECISIVE):
                share = sum(keys.count_prefix(root + p) for p in _VAE_PARTS) / len(keys)
                score = 1.0 if share >= MIN_COMPONENT_SHARE else 0.3
                return Claim(Kind.VAE.value, score, f"VAE encoder/decoder under {root!r}", root)
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        keys, root = ctx.keys, claim.found
        info = VaeInfo()
        ident.vae = info
        latent = keys.get(f"{root}{VAE_LATENT_KEY}")
        structure: BaseClaim | None = None
        if keys.has(CASCADE_VAE_KEY):
            structure = BaseClaim(Base.CASCADE, "Stable Cascade stage A")
        elif latent is not None and len(latent.shape) == 5:
            ident.add("base", "3-D convolutions: a video VAE (Wan / Qwen-Image family)")
            info.latent_channels = latent.shape[1]
        elif latent is not None and len(latent.shape) == 4:
            info.latent_channels = latent.shape[1]
            ident.add("vae", f"{info.latent_channels} latent channels ({VAE_LATENT_KEY})")
            structure = _vae_structure(keys, root, info)
        known = _known_hash(ctx, ident)
        if known is None and info.latent_channels == 4:
            _record_fp16_fix_name(ctx, ident, info)
        if known is not None:
            info.known_as = known.known_as
            info.fp16_fix = known.fp16_fix
            structure = BaseClaim(known.base, f"SHA-256 is {known.known_as}", "hash")
        meta = base_from_metadata(raw_metadata(ctx.header))
        if structure is None and meta is None:
            _record_name_hint(ctx, ident, info)
        reason = _ambiguous_reason(info)
        settle_base(ident, structure, meta, reason)
        if ident.base == Base.UNKNOWN.value or structure is None or structure.strength == WEAK:
            ident.base_candidates = list(info.base_candidates)


def _vae_structure(keys: KeyIndex, root: str, info: VaeInfo) -> BaseClaim | None:
    channels = info.latent_channels
    if keys.has(root + VAE_TEMPORAL_KEY):
        return BaseClaim(Base.SVD, "temporal decoder (mix_factor): Stable Video Diffusion VAE")
    if channels == 32 and keys.has(root + VAE_FLUX2_KEY):
        return BaseClaim(Base.FLUX2, "32 latent channels with batch-norm statistics: Flux.2 VAE")
    candidates = VAE_LATENT_CANDIDATES.get(channels or 0, ())
    info.base_candidates = [b.value for b in candidates]
    if len(candidates) == 1:
        return BaseClaim(candidates[0], f"{channels} latent channels: {candidates[0].value}")
    return None


def _ambiguous_reason(info: VaeInfo) -> str:
    if info.latent_channels == 4:
        return (
            "4-channel VAEs of SD1/SD2 and SDXL have identical shapes (SD2 uses the SD1 VAE); "
            "a known hash or metadata is needed"
        )
    if info.latent_channels == 16:
        return "16-channel VAEs of SD3 and Flux have identical shapes; a hash or metadata is needed"
    return f"no known VAE family has {info.latent_channels} latent channels"


def _known_hash(ctx: Context, ident: Identity):
    sha = (ctx.hashes.get("sha256") or "").lower()
    known = KNOWN_SHA256.get(sha) if sha else None
    if known is not None and known.kind != ident.kind:
        ident.warnings.append(
            f"SHA-256 matches {known.known_as}, a {known.kind}, not a {ident.kind}"
        )
        return None
    return known


# How people name the madebyollin fp16-fix SDXL VAE when they rename it; its tensors are
# identical in shape to the stock SDXL VAE, so without its hash the name is all there is.
FP16_FIX_NAME_MARKS = ("fp16-fix", "fp16_fix", "fp16fix", "fp16 fix")


def _record_fp16_fix_name(ctx: Context, ident: Identity, info: VaeInfo) -> None:
    name = ctx.header.path.name.lower()
    mark = next((m for m in FP16_FIX_NAME_MARKS if m in name), None)
    if mark:
        info.fp16_fix = True
        ident.add(
            "vae", f"file name contains {mark!r}: taken as the fp16-fix VAE (a guess)", "name"
        )


def _record_name_hint(ctx: Context, ident: Identity, info: VaeInfo) -> None:
    # Shapes cannot tell these VAEs apart and names lie: the hint orders the candidates and is
    # shown as evidence, but the base stays undecided.
    hint = _name_hint(ctx, info)
    if hint is None:
        return
    ident.add("base", f"{hint.fact}; not decisive", "name")
    hinted = hint.base.value
    info.base_candidates = [hinted] + [b for b in info.base_candidates if b != hinted]


def _name_hint(ctx: Context, info: VaeInfo) -> BaseClaim | None:
    allowed = set(info.base_candidates)
    for words, base in VAE_NAME_HINTS:
        hit = next(
            (w for w in words if w in ctx.name_words or (len(w) > 2 and w in ctx.name)), None
        )
        if hit and base.value in allowed:
            return BaseClaim(base, f"file name contains {hit!r} (a guess)", "name", WEAK)
    return None


class TextEncoderMatcher:
    name = "text encoder"

    def claim(self, ctx: Context) -> Claim | None:
        keys = ctx.keys
        for signature in TEXT_ENCODER_SIGNATURES:
            hit = keys.find(signature.width_key, TEXT_ENCODER_ROOTS)
            if hit is not None:
                root, info = hit
                share = self._share(keys, root, signature.name)
                score = 1.0 if share >= MIN_COMPONENT_SHARE else 0.3
                return Claim(
                    Kind.TEXT_ENCODER.value,
                    score,
                    f"{signature.name} text encoder",
                    (signature, root, info),
                )
        hit = keys.find(T5_KEYS[0], TEXT_ENCODER_ROOTS)
        if hit is not None:
            root = hit[0]
            share = (
                keys.count_prefix(root + "encoder.") + keys.count_prefix(root + "shared.")
            ) / len(keys)
            score = 1.0 if share >= MIN_COMPONENT_SHARE else 0.3
            return Claim(Kind.TEXT_ENCODER.value, score, "T5 encoder", None)
        return None

    @staticmethod
    def _share(keys: KeyIndex, root: str, layout: str) -> float:
        parts = (
            ("text_model.", "text_projection")
            if layout == "hf_clip"
            else (
                "transformer.",
                "token_embedding",
                "ln_final",
                "positional_embedding",
                "text_projection",
            )
        )
        return sum(keys.count_prefix(root + p) for p in parts) / len(keys)

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        meta = base_from_metadata(raw_metadata(ctx.header))
        if claim.found is None:  # T5
            ident.add("base", "T5-XXL is used by SD3, Flux, PixArt and others")
            settle_base(ident, None, meta, "T5 encoders are shared by several bases")
            if ident.base == Base.UNKNOWN.value:
                ident.base_candidates = [Base.SD3.value, Base.FLUX.value]
            return
        _signature, _root, info = claim.found
        width = info.shape[-1]  # token_embedding is [vocabulary, width] in both layouts
        name, bases = TEXT_ENCODER_WIDTHS.get(width, (f"width {width}", ()))
        ident.add("base", f"{name} (width {width})")
        structure = None
        if len(bases) == 1:
            structure = BaseClaim(bases[0], f"{name} is only used by {bases[0].value}")
        settle_base(ident, structure, meta, f"{name} is shared by several bases")
        if ident.base == Base.UNKNOWN.value:
            ident.base_candidates = [b.value for b in bases]


def _looks_like_token(name: str, info: TensorInfo) -> bool:
    """A diffusers ``{"<token>": vectors}`` entry, not a layer's ``proj.weight``."""
    if "." in name and not name.startswith("<"):
        return False
    if len(info.shape) == 1:
        return info.shape[0] in EMBEDDING_WIDTHS
    return (
        len(info.shape) == 2
        and info.shape[0] <= EMBEDDING_MAX_VECTORS
        and info.shape[1] in EMBEDDING_WIDTHS
    )


class EmbeddingMatcher:
    name = "embedding"

    def claim(self, ctx: Context) -> Claim | None:
        keys = ctx.keys
        if all(keys.has(k) for k in EMBEDDING_SDXL_KEYS):
            return Claim(Kind.EMBEDDING.value, 1.0, "clip_l + clip_g vectors (SDXL embedding)")
        for key in EMBEDDING_KEYS:
            if keys.has(key):
                return Claim(Kind.EMBEDDING.value, 1.0, f"{key} vectors", key)
        key = keys.first_with_prefix(EMBEDDING_PREFIX)
        if key is not None:
            return Claim(Kind.EMBEDDING.value, 1.0, "A1111 string_to_param vectors", key)
        if 0 < len(keys) <= EMBEDDING_MAX_LOOSE_TENSORS and all(
            _looks_like_token(name, t) for name, t in keys.tensors.items()
        ):
            key = keys.sorted[0]
            return Claim(Kind.EMBEDDING.value, 0.5, f"a few token vectors ({key!r})", key)
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        keys = ctx.keys
        meta = base_from_metadata(raw_metadata(ctx.header))
        if claim.found is None:  # SDXL pair
            vectors = keys.get("clip_l").shape[0] if keys.get("clip_l").shape else 1
            structure = BaseClaim(Base.SDXL, "clip_l (768) and clip_g (1280) vectors")
        else:
            info = keys.get(claim.found)
            vectors = info.shape[0] if len(info.shape) == 2 else 1
            width = info.shape[-1]
            base = EMBEDDING_WIDTH_BASE.get(width)
            strength = DECISIVE if claim.score >= 1.0 else LIKELY
            structure = (
                BaseClaim(base, f"vector width {width} means {base.value}", "structure", strength)
                if base
                else None
            )
        ident.metadata["vectors"] = vectors
        ident.add("embedding", f"{vectors} vector(s) per token")
        settle_base(ident, structure, meta, "vector width matches no known text encoder")
