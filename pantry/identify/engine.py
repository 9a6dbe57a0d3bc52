"""Header -> Identity: ask every matcher, rank the claims, let the winner describe the file.

Like InvokeAI's model probe, every kind has one matcher that says "this file is mine" (with a
score); unlike it, a file nobody claims is kept as ``unknown`` with the reason.
"""

from __future__ import annotations

from dataclasses import replace

from pantry.formats.header import Header
from pantry.identify.adapters import (
    ControlNetMatcher,
    HypernetworkMatcher,
    IPAdapterMatcher,
    T2IAdapterMatcher,
)
from pantry.identify.components import EmbeddingMatcher, TextEncoderMatcher, VaeMatcher
from pantry.identify.context import Context
from pantry.identify.folders import describe_folder
from pantry.identify.identity import Identity
from pantry.identify.lora import LoraMatcher
from pantry.identify.main_model import MainModelMatcher
from pantry.identify.meta import (
    base_from_training_name,
    lineage_from_metadata,
    raw_metadata,
    read_metadata,
    tag_frequency,
    unknown_architecture,
)
from pantry.identify.other_models import (
    ClipVisionMatcher,
    FaceRestorerMatcher,
    ForeignModelMatcher,
    MotionModuleMatcher,
    UpscalerMatcher,
)
from pantry.identify.signatures import BNB_QUANT_MARKERS, BUNDLED_EMBEDDING_PREFIX, KNOWN_SHA256
from pantry.identify.stats import weight_stats
from pantry.identify.style import style_hint
from pantry.identify.taxonomy import Base, Confidence, Kind, Precision
from pantry.identify.verdict import BASELESS_KINDS
from pantry.identify.vocab import LINEAGE_BASES

MATCHERS = (
    MainModelMatcher(),
    ControlNetMatcher(),
    T2IAdapterMatcher(),
    IPAdapterMatcher(),
    LoraMatcher(),
    VaeMatcher(),
    TextEncoderMatcher(),
    EmbeddingMatcher(),
    HypernetworkMatcher(),
    UpscalerMatcher(),
    FaceRestorerMatcher(),
    ClipVisionMatcher(),
    MotionModuleMatcher(),
    ForeignModelMatcher(),
)

# Among equally sure claims the earlier kind wins (a checkpoint with a merged LoRA's leftovers
# is a checkpoint; a ControlNet carries UNet-like blocks).
KIND_PRIORITY: tuple[Kind, ...] = (
    Kind.CHECKPOINT,
    Kind.CONTROLNET,
    Kind.T2I_ADAPTER,
    Kind.IP_ADAPTER,
    Kind.LORA,
    Kind.DIFFUSION_MODEL,
    Kind.VAE,
    Kind.TEXT_ENCODER,
    Kind.EMBEDDING,
    Kind.HYPERNETWORK,
    Kind.MOTION_MODULE,
    Kind.CLIP_VISION,
    Kind.UPSCALER,
    Kind.FACE_RESTORER,
    Kind.UNKNOWN,  # recognised as a non-generation model (a detector, a segmenter)
)
# Kinds whose files normally contain the other's signature: no conflict when both claim.
CONTAINS: dict[Kind, frozenset[Kind]] = {
    Kind.CHECKPOINT: frozenset(
        {Kind.VAE, Kind.TEXT_ENCODER, Kind.EMBEDDING, Kind.DIFFUSION_MODEL, Kind.LORA}
    ),
    Kind.DIFFUSION_MODEL: frozenset({Kind.EMBEDDING, Kind.TEXT_ENCODER, Kind.LORA}),
    # SparseCtrl ControlNets carry AnimateDiff motion modules; control-LoRAs are low-rank
    Kind.CONTROLNET: frozenset(
        {Kind.DIFFUSION_MODEL, Kind.T2I_ADAPTER, Kind.EMBEDDING, Kind.MOTION_MODULE, Kind.LORA}
    ),
    Kind.LORA: frozenset({Kind.EMBEDDING, Kind.MOTION_MODULE}),  # bundled TIs, motion LoRAs
    Kind.IP_ADAPTER: frozenset({Kind.EMBEDDING, Kind.LORA}),  # FaceID bundles LoRA weights
    Kind.T2I_ADAPTER: frozenset({Kind.EMBEDDING}),
    Kind.UPSCALER: frozenset({Kind.EMBEDDING}),
}
# Kinds that work with every base: a training base's name says nothing about them.
NO_BASE_KINDS = frozenset({Kind.UNKNOWN.value} | BASELESS_KINDS)
# The key of a component folder's own weights in Header.components (see formats).
COMPONENT_FOLDER = "."
# Claims at least this sure count as a conflict when two disagree.
FIRM = 0.8
# A best claim below this explains only part of the file (e.g. a VAE glued to a text encoder).
PARTIAL = 0.5


def identify(header: Header, hashes: dict[str, str] | None = None) -> Identity:
    """What ``header`` is. ``hashes`` (keys from ``pantry.catalog.asset``) add known files."""
    ctx = Context(header, {k: v.lower() for k, v in (hashes or {}).items() if isinstance(v, str)})
    ident = Identity(format=header.format)
    ident.warnings.extend(header.warnings)
    if header.unsafe_globals:
        ident.unsafe = True
        ident.unsafe_globals = list(header.unsafe_globals)
        ident.add("safety", "pickle imports " + ", ".join(header.unsafe_globals[:5]), "structure")
    if header.format == "diffusers" and COMPONENT_FOLDER in header.components:
        return _identify_component_folder(header, hashes)
    if header.format == "diffusers":
        describe_folder(ctx, ident)
        tensors = [t for part in header.components.values() for t in part.tensors.values()]
    else:
        _identify_tensors(ctx, ident)
        tensors = list(header.tensors.values())
    ident.precision, ident.params = weight_stats(tensors)
    _quantisation(ctx, ident)
    _metadata(ctx, ident)
    _bundled_embeddings(ctx, ident)
    _known_file(ctx, ident)
    return ident


def _identify_component_folder(header: Header, hashes: dict[str, str] | None) -> Identity:
    """A folder holding one ``save_pretrained`` model (a UNet, a VAE, a ControlNet, often
    sharded): its weights say what it is, exactly as they would in a single file."""
    weights = header.components[COMPONENT_FOLDER]
    ident = identify(replace(weights, path=header.path, warnings=list(header.warnings)), hashes)
    ident.format = header.format
    config_class = (header.configs.get(COMPONENT_FOLDER) or {}).get("_class_name")
    fact = f"diffusers component folder ({config_class or 'config.json without _class_name'})"
    ident.add("kind", fact, "config")
    return ident


def _identify_tensors(ctx: Context, ident: Identity) -> None:
    if not ctx.header.tensors and not ctx.header.extras and not ctx.header.pickle_globals:
        _unknown(ident, "the file holds no tensors")
        return
    claims = [(m, c) for m in MATCHERS if (c := m.claim(ctx)) is not None]
    if not claims and not ctx.header.tensors:
        _unknown(ident, "the file holds no tensors")  # e.g. a pickle of imports only
        return
    if not claims:
        top = ", ".join(ctx.keys.top_prefixes()) or "none"
        _unknown(ident, f"no known signature matched {len(ctx.keys)} tensors (top names: {top})")
        return
    claims.sort(key=lambda mc: (-mc[1].score, KIND_PRIORITY.index(Kind(mc[1].kind))))
    matcher, best = claims[0]
    if best.score < PARTIAL:
        others = "; ".join(f"{c.kind} ({c.fact})" for _, c in claims[1:]) or "nothing else"
        _unknown(
            ident,
            f"conflicting or partial signatures: {best.kind} ({best.fact}) explains "
            f"only part of the file; also seen: {others}",
        )
        return
    for _, other in claims[1:]:
        contained = Kind(other.kind) in CONTAINS.get(Kind(best.kind), frozenset())
        if other.score >= FIRM and other.kind != best.kind and not contained:
            _unknown(
                ident,
                f"conflicting signatures: {best.kind} ({best.fact}) "
                f"and {other.kind} ({other.fact})",
            )
            return
        ident.add("kind", f"also looks like {other.kind}: {other.fact} (outranked)")
    ident.kind = best.kind
    ident.add("kind", best.fact)
    try:
        matcher.describe(ctx, ident, best)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # a header this odd is reported, not raised: scans go on past it
        ident.errors.append(f"could not finish identifying this {best.kind}: {exc!r}")
        ident.confidence = Confidence.LOW.value


def _unknown(ident: Identity, reason: str) -> None:
    ident.kind = Kind.UNKNOWN.value
    ident.base = Base.UNKNOWN.value
    ident.confidence = Confidence.NONE.value
    ident.reason = reason
    ident.add("kind", reason, "default")


def _metadata(ctx: Context, ident: Identity) -> None:
    raw = raw_metadata(ctx.header)
    shown, warnings = read_metadata(raw)
    ident.metadata.update(shown)
    ident.warnings.extend(warnings)
    _trigger_evidence(raw, ident)
    _lineage(raw, ident)
    _training_base(raw, ident)
    arch = unknown_architecture(raw)
    if arch is not None:
        ident.add("base", f"modelspec.architecture {arch!r} names no base pantry knows", "metadata")
        if ident.base == Base.UNKNOWN.value and ident.reason:
            ident.reason += f" (metadata names architecture {arch!r}, which pantry does not know)"
    text = " ".join(
        str(shown.get(k, "")) for k in ("title", "description") if isinstance(shown.get(k), str)
    )
    text += " " + " ".join(shown.get("tags") or [])
    tags, _ = tag_frequency(raw)
    ident.style = style_hint(text, tags, ident.lineage, ctx.name_text)
    if ident.style is not None:
        ident.add("style", f"{ident.style.value}: {ident.style.detail}", ident.style.source)


def _trigger_evidence(raw: dict[str, str], ident: Identity) -> None:
    """Say whether trigger words were declared by the author or guessed from captions."""
    words = ident.metadata.get("trigger_words")
    if not words:
        return
    if raw.get("modelspec.trigger_phrase", "").strip():
        ident.add("trigger_words", f"modelspec.trigger_phrase {', '.join(words)!r}", "metadata")
    else:
        fact = f"guessed from training captions: {', '.join(words)}"
        ident.add("trigger_words", fact, "training_tags")


def _lineage(raw: dict[str, str], ident: Identity) -> None:
    """A family named by the training base or title, kept only where the base allows it."""
    found = lineage_from_metadata(raw)
    if found is None or ident.lineage is not None:
        return
    name, fact, source, strong = found
    family_base = LINEAGE_BASES[name]
    if ident.base == family_base.value:
        ident.lineage = name
        ident.add("lineage", fact, source)
        return
    if ident.base != Base.UNKNOWN.value:
        ident.warnings.append(
            f"metadata names {name}, a {family_base.value} family, but base is {ident.base}"
        )
        ident.add("lineage", f"ignored: {fact} (base is {ident.base})", source)
        return
    ident.lineage = name
    ident.add("lineage", fact, source)
    candidates = ident.base_candidates
    if (
        strong
        and ident.kind not in NO_BASE_KINDS
        and (not candidates or family_base.value in candidates)
    ):
        # the file was made for that training base, so it is made for that base's architecture
        ident.base = family_base.value
        ident.reason = None
        ident.confidence = (Confidence.MEDIUM if source == "hash" else Confidence.LOW).value
        ident.add("base", f"{name} is a {family_base.value} family and {fact}", source)


def _training_base(raw: dict[str, str], ident: Identity) -> None:
    """A LoRA or embedding trained on a well-known release is for that release's base."""
    found = base_from_training_name(raw)
    if found is None or ident.kind in NO_BASE_KINDS:
        return
    base, fact = found
    if ident.base != Base.UNKNOWN.value:
        if ident.base != base.value:
            ident.warnings.append(f"{fact}, but the tensors say {ident.base}")
        return
    if ident.base_candidates and base.value not in ident.base_candidates:
        return
    ident.base = base.value
    ident.reason = None
    ident.confidence = Confidence.LOW.value
    ident.add("base", fact, "metadata")


def _bundled_embeddings(ctx: Context, ident: Identity) -> None:
    """kohya stores textual inversions trained with a LoRA as ``bundle_emb.<name>.<vectors>``."""
    if ident.kind != Kind.LORA.value or not ctx.keys.has_prefix(BUNDLED_EMBEDDING_PREFIX):
        return
    names = sorted(
        {
            key[len(BUNDLED_EMBEDDING_PREFIX) :].split(".", 1)[0]
            for key in ctx.keys.sorted
            if key.startswith(BUNDLED_EMBEDDING_PREFIX)
        }
    )
    ident.metadata["bundled_embeddings"] = names
    ident.add("lora", "bundles textual inversion embeddings: " + ", ".join(names[:10]))


def _quantisation(ctx: Context, ident: Identity) -> None:
    """bitsandbytes 4-bit files store packed bytes: their dtype says int8, their shapes lie."""
    if ident.precision not in (Precision.INT8.value, Precision.MIXED.value):
        return  # bnb packs into uint8: other files skip the key scan
    for marker, precision in BNB_QUANT_MARKERS.items():
        if any(marker in key for key in ctx.keys.sorted):
            ident.precision = precision.value
            ident.add("precision", f"bitsandbytes quantisation state ({marker}): packed 4-bit")
            ident.warnings.append(
                "4-bit quantised weights: tensor shapes are packed, so shape-based details "
                "(input channels, widths) may be unreadable"
            )
            return


def _known_file(ctx: Context, ident: Identity) -> None:
    """Checkpoints recognised by hash (VAEs use their own hash table in their matcher)."""
    known = KNOWN_SHA256.get(ctx.hashes.get("sha256", ""))
    if known is None or known.kind != ident.kind or ident.kind == Kind.VAE.value:
        return
    if known.base.value != ident.base:
        # a published file's hash with another base's tensors: the header is not that file
        ident.warnings.append(
            f"SHA-256 is {known.known_as} ({known.base.value}) but the tensors say {ident.base}"
        )
        ident.add("base", f"ignored: SHA-256 is {known.known_as} (base {ident.base})", "hash")
        return
    ident.add("base", f"SHA-256 is {known.known_as}", "hash")
    ident.confidence = Confidence.HIGH.value
    if known.lineage and ident.lineage is None:
        ident.lineage = known.lineage
        ident.add("lineage", f"SHA-256 is {known.known_as}", "hash")
