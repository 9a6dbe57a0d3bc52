"""Short plain-text lines about an Identity, for the CLI to print (no markup)."""

from __future__ import annotations

from pantry.identify.identity import Identity
from pantry.identify.taxonomy import Base, Confidence, Kind
from pantry.identify.verdict import BASELESS_KINDS


def summary_lines(identity: Identity) -> list[str]:
    """E.g. ["checkpoint · sdxl · fp16 · 3.5B params", "lacks: vae"]."""
    lines = [" · ".join(_headline(identity))]
    if identity.kind == Kind.UNKNOWN.value or identity.base == Base.UNKNOWN.value:
        if identity.reason:
            lines.append(f"why unknown: {identity.reason}")
        if identity.base_candidates:
            lines.append("could be: " + ", ".join(identity.base_candidates))
    if identity.variants:
        lines.append("variants: " + ", ".join(identity.variants))
    if identity.lineage:
        lines.append(f"lineage: {identity.lineage}")
    if identity.components.get("missing"):
        lines.append("lacks: " + ", ".join(identity.components["missing"]))
    lora = identity.lora
    if lora is not None:
        rank = f"rank {lora.rank}" if lora.rank is not None else "rank n/a"
        alpha = f"alpha {lora.alpha:g}" if lora.alpha is not None else "alpha unknown"
        targets = ", ".join(f"{k} {v}" for k, v in lora.targets.items())
        fmt = lora.format + (" + DoRA" if lora.dora else "")
        lines.append(f"{fmt} · {rank} · {alpha} · {lora.module_count} modules ({targets})")
    vae = identity.vae
    if vae is not None:
        parts = [f"{vae.latent_channels} latent channels"] if vae.latent_channels else []
        if vae.known_as:
            parts.append(f"known as {vae.known_as}")
        if vae.fp16_fix:
            parts.append("fp16-fix")
        if parts:
            lines.append("vae: " + " · ".join(parts))
    meta = identity.metadata
    if meta.get("title"):
        lines.append(f"title: {meta['title']}")
    if meta.get("trigger_words"):
        lines.append("trigger words: " + ", ".join(meta["trigger_words"]))
    if meta.get("training_base"):
        lines.append(f"trained on: {meta['training_base']}")
    if meta.get("clip_skip"):
        lines.append(f"clip skip: {meta['clip_skip']}")
    if identity.style is not None:
        lines.append(f"style: {identity.style.value} (from {identity.style.source})")
    if identity.unsafe:
        lines.append("UNSAFE pickle imports: " + ", ".join(identity.unsafe_globals[:5]))
    lines.extend(f"error: {e}" for e in identity.errors)
    lines.extend(f"warning: {w}" for w in identity.warnings)
    return lines


def explain_lines(identity: Identity) -> list[str]:
    """One line per piece of evidence: "base: cross-attention width 2048 ... [structure]"."""
    return [f"{e.about}: {e.fact} [{e.source}]" for e in identity.evidence]


def _headline(identity: Identity) -> list[str]:
    parts = [identity.kind]
    if identity.base != Base.UNKNOWN.value:
        parts.append(identity.base + (f" {identity.edition}" if identity.edition else ""))
    elif identity.kind not in BASELESS_KINDS:
        parts.append("base unknown")
    if identity.precision != "unknown":
        parts.append(identity.precision)
    if identity.params:
        parts.append(f"{human_count(identity.params)} params")
    if identity.confidence not in (Confidence.HIGH.value, Confidence.NONE.value):
        parts.append(f"{identity.confidence} confidence")
    return parts


def human_count(n: int) -> str:
    """3_500_000_000 -> "3.5B"; 860_000 -> "860K"."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return str(n)
