"""Weighing one base claim from structure against one from metadata, with the evidence kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from pantry.identify.identity import Identity
from pantry.identify.taxonomy import Base, Confidence, Edition, Kind, Variant
from pantry.identify.vocab import REFINEMENTS

DECISIVE = "decisive"  # a signature that only this base has
LIKELY = "likely"  # a strong hint (e.g. SGM block names in a kohya LoRA)
WEAK = "weak"  # a hint (a shared width, a name)
# Kinds that work on any base's images (pixel space, shared encoders): their base is
# "unknown" by nature, with high confidence and no reason to report.
BASELESS_KINDS = frozenset({Kind.UPSCALER.value, Kind.FACE_RESTORER.value, Kind.CLIP_VISION.value})
_ALONE = {DECISIVE: Confidence.HIGH, LIKELY: Confidence.MEDIUM, WEAK: Confidence.LOW}


@dataclass
class BaseClaim:
    base: Base
    fact: str
    source: str = "structure"  # structure | metadata | hash | name | config
    strength: str = DECISIVE
    edition: Edition | None = None
    variants: tuple[Variant, ...] = ()
    candidates: tuple[Base, ...] = field(default=())


def settle_base(
    ident: Identity, structure: BaseClaim | None, meta: BaseClaim | None, unknown_reason: str
) -> None:
    """Set ``ident.base``/edition/confidence from the two claims, and say why.

    Structure that is decisive wins over metadata that disagrees (metadata is often copied
    from a template), but the conflict is reported and confidence drops. A weak structural
    hint yields to explicit metadata.
    """
    for claim in (structure, meta):
        if claim is not None:
            ident.add("base", claim.fact, claim.source)
    if structure is None and meta is None:
        ident.base = Base.UNKNOWN.value
        ident.confidence = Confidence.NONE.value
        ident.reason = unknown_reason
        return
    if structure is None or meta is None:
        only = structure or meta
        _apply(ident, only)
        if only is structure:
            ident.confidence = _ALONE[structure.strength].value
        else:
            ident.confidence = Confidence.MEDIUM.value
        return
    if structure.base == meta.base or (structure.base, meta.base) in REFINEMENTS:
        _apply(ident, structure)
        ident.base = meta.base.value  # equal, or the finer name (e.g. chroma for flux)
        if ident.edition is None and meta.edition is not None:
            ident.edition = meta.edition.value
        for variant in meta.variants:
            add_variant(ident, variant)
        ident.confidence = Confidence.HIGH.value
        ident.add("base", f"metadata agrees with structure ({meta.base.value})", "metadata")
        return
    winner = structure if structure.strength == DECISIVE else meta
    loser = meta if winner is structure else structure
    _apply(ident, winner)
    ident.confidence = (Confidence.MEDIUM if winner is structure else Confidence.LOW).value
    message = (
        f"{loser.source} says {loser.base.value} but {winner.source} says "
        f"{winner.base.value}; using {winner.base.value}"
    )
    ident.warnings.append(message)
    ident.add("base", "conflict: " + message, winner.source)


def _apply(ident: Identity, claim: BaseClaim) -> None:
    ident.base = claim.base.value
    if claim.edition is not None:
        ident.edition = claim.edition.value
    for variant in claim.variants:
        add_variant(ident, variant)
    if claim.candidates:
        ident.base_candidates = [b.value for b in claim.candidates]


def add_variant(ident: Identity, variant: Variant) -> None:
    if variant.value not in ident.variants:
        ident.variants.append(variant.value)
    if ident.variant is None:
        ident.variant = variant.value


@dataclass
class Claim:
    """A matcher's "this file is mine": how sure (0..1), why, and what it found on the way."""

    kind: str  # Kind value
    score: float
    fact: str
    found: object = None  # matcher-specific (e.g. the signature and root), reused by describe
