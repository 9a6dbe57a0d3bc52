"""Header -> Identity: ask every matcher, rank the claims, let the winner describe the file.

Like InvokeAI's model probe, every kind has one matcher that says "this file is mine" (with a
score); unlike it, a file nobody claims is kept as ``unknown`` with the reason.
"""

from __future__ import annotations

from pantry.formats.header import Header
from pantry.identify.adapters import (
    ControlNetMatcher,
    HypernetworkMatcher,
    IPAdapterMatcher,
    T2IAdapterMatcher,
    UpscalerMatcher,
)
from pantry.identify.components import EmbeddingMatcher, TextEncoderMatcher, VaeMatcher
from pantry.identify.context import Context
from pantry.identify.folders import describe_folder
from pantry.identify.identity import Identity
from pantry.identify.lora import LoraMatcher
from pantry.identify.main_model import MainModelMatcher
from pantry.identify.meta import lineage_from_metadata, raw_metadata, read_metadata, tag_frequency
from pantry.identify.signatures import KNOWN_SHA256
from pantry.identify.stats import weight_stats
from pantry.identify.style import style_hint
from pantry.identify.taxonomy import Base, Confidence, Kind
from pantry.identify.vocab import LINEAGE_BASE

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
    Kind.UPSCALER,
)
# Kinds whose files normally contain the other's signature: no conflict when both claim.
CONTAINS: dict[Kind, frozenset[Kind]] = {
    Kind.CHECKPOINT: frozenset(
        {Kind.VAE, Kind.TEXT_ENCODER, Kind.EMBEDDING, Kind.DIFFUSION_MODEL, Kind.LORA}
    ),
    Kind.DIFFUSION_MODEL: frozenset({Kind.EMBEDDING, Kind.TEXT_ENCODER, Kind.LORA}),
    Kind.CONTROLNET: frozenset({Kind.DIFFUSION_MODEL, Kind.T2I_ADAPTER, Kind.EMBEDDING}),
    Kind.LORA: frozenset({Kind.EMBEDDING}),  # LoRAs with bundled textual inversions
    Kind.IP_ADAPTER: frozenset({Kind.EMBEDDING}),
    Kind.T2I_ADAPTER: frozenset({Kind.EMBEDDING}),
    Kind.UPSCALER: frozenset({Kind.EMBEDDING}),
}
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
    if header.format == "diffusers":
        describe_folder(ctx, ident)
        tensors = [t for part in header.components.values() for t in part.tensors.values()]
    else:
        _identify_tensors(ctx, ident)
        tensors = list(header.tensors.values())
    ident.precision, ident.params = weight_stats(tensors)
    _metadata(ctx, ident)
    _known_file(ctx, ident)
    return ident


def _identify_tensors(ctx: Context, ident: Identity) -> None:
    if not ctx.header.tensors and not ctx.header.extras:
        _unknown(ident, "the file holds no tensors")
        return
    claims = [(m, c) for m in MATCHERS if (c := m.claim(ctx)) is not None]
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
    lineage = lineage_from_metadata(raw)
    if lineage is not None and ident.lineage is None:
        name, fact, source = lineage
        if ident.base in (LINEAGE_BASE.value, Base.UNKNOWN.value):
            ident.lineage = name
            ident.add("lineage", fact, source)
        else:
            ident.warnings.append(
                f"metadata names {name}, an SDXL family, but base is {ident.base}"
            )
            ident.add("lineage", f"ignored: {fact} (base is {ident.base})", source)
    text = " ".join(
        str(shown.get(k, "")) for k in ("title", "description") if isinstance(shown.get(k), str)
    )
    text += " " + " ".join(shown.get("tags") or [])
    tags, _ = tag_frequency(raw)
    ident.style = style_hint(text, tags, ident.lineage, ctx.name_text)
    if ident.style is not None:
        ident.add("style", f"{ident.style.value}: {ident.style.detail}", ident.style.source)


def _known_file(ctx: Context, ident: Identity) -> None:
    """Checkpoints recognised by hash (VAEs use their own hash table in their matcher)."""
    known = KNOWN_SHA256.get(ctx.hashes.get("sha256", ""))
    if known is None or known.kind != ident.kind or ident.kind == Kind.VAE.value:
        return
    ident.add("base", f"SHA-256 is {known.known_as}", "hash")
    if known.base.value == ident.base:
        ident.confidence = Confidence.HIGH.value
    if known.lineage and ident.lineage is None:
        ident.lineage = known.lineage
        ident.add("lineage", f"SHA-256 is {known.known_as}", "hash")
