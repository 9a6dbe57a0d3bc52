"""Identity: what identify answers for one asset. ``to_json`` is the stable public schema."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pantry.identify.taxonomy import Base, Confidence, Kind


@dataclass
class Evidence:
    """One fact that led to an answer: which answer (``about``), the fact, and its source."""

    about: str  # "kind", "base", "variant", "lineage", "style", "vae", "lora", ...
    fact: str  # human sentence, e.g. "attn2.to_k input width 2048 (SDXL cross-attention)"
    source: str = "structure"  # structure | metadata | hash | name | config | default


@dataclass
class LoraInfo:
    format: str  # LoraFormat value
    rank: int | None = None  # most common rank; None when not a low-rank format
    ranks: list[int] = field(default_factory=list)  # distinct ranks seen
    alpha: float | None = None  # most common alpha (None when the file stores none)
    module_count: int = 0  # modules the LoRA patches
    targets: dict[str, int] = field(default_factory=dict)  # {"unet": n, "text_encoder": n, ...}
    modules: list[str] = field(default_factory=list)  # module names as the file spells them
    dora: bool = False


@dataclass
class VaeInfo:
    latent_channels: int | None = None
    fp16_fix: bool | None = None  # True for the madebyollin fp16-fix SDXL VAE, when known
    known_as: str | None = None  # e.g. "vae-ft-mse-840000-ema-pruned" when a hash decides
    base_candidates: list[str] = field(default_factory=list)  # e.g. ["sd1", "sdxl"]


@dataclass
class StyleHint:
    value: str  # Style value
    source: str  # StyleSource value
    detail: str = ""  # e.g. "training tags: 1girl (312), anime (120)"


@dataclass
class Identity:
    kind: str = Kind.UNKNOWN.value
    base: str = Base.UNKNOWN.value
    edition: str | None = None  # Edition value
    variant: str | None = None  # main Variant value; all of them in ``variants``
    variants: list[str] = field(default_factory=list)
    lineage: str | None = None  # pony, illustrious, noobai, ... only when evidence allows
    base_candidates: list[str] = field(default_factory=list)  # when base is not decided
    confidence: str = Confidence.NONE.value
    reason: str | None = None  # why kind/base is unknown, when it is
    components: dict[str, list[str]] = field(default_factory=lambda: {"present": [], "missing": []})
    precision: str = "unknown"
    params: int = 0
    lora: LoraInfo | None = None
    vae: VaeInfo | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    style: StyleHint | None = None
    evidence: list[Evidence] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unsafe: bool = False
    unsafe_globals: list[str] = field(default_factory=list)
    format: str | None = None  # safetensors | pickle | diffusers

    def add(self, about: str, fact: str, source: str = "structure") -> None:
        self.evidence.append(Evidence(about, fact, source))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Identity:
        data = dict(data)
        data["evidence"] = [Evidence(**e) for e in data.get("evidence") or []]
        if data.get("lora"):
            data["lora"] = LoraInfo(**data["lora"])
        if data.get("vae"):
            data["vae"] = VaeInfo(**data["vae"])
        if data.get("style"):
            data["style"] = StyleHint(**data["style"])
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})
