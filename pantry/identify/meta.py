"""Embedded metadata (kohya ``ss_*``, ModelSpec ``modelspec.*``, pickle extras), read defensively.

Values come from strangers' files: any of them may be garbage, truncated JSON or the wrong
type. A value that cannot be read becomes a warning, never an exception.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from pantry.formats.header import Header
from pantry.identify.signatures import KNOWN_SHA256
from pantry.identify.taxonomy import Base, Edition, Variant
from pantry.identify.verdict import DECISIVE, LIKELY, BaseClaim
from pantry.identify.vocab import (
    ADAPTER_SUFFIXES,
    ARCHITECTURE_PREFIXES,
    ARCHITECTURES,
    BASE_MODEL_VERSION_PREFIXES,
    BASE_MODEL_VERSIONS,
    GENERIC_TAGS,
    GGUF_ARCHITECTURES,
    LINEAGE_NAME_SOURCES,
    LINEAGE_TITLE_SOURCES,
    LINEAGES,
    MAX_TEXT,
    MAX_TRIGGER_WORDS,
    METADATA_SOURCES,
    TOP_TAGS,
    TRAINING_BASE_NAMES,
    TRIGGER_MIN_SHARE,
    TRUE_VALUES,
    V_PREDICTION_VALUES,
)

_RESOLUTION = re.compile(r"(\d{2,5})\D+(\d{2,5})")
_INT = re.compile(r"^\s*\(?\s*(-?\d+)\s*\)?\s*$")
_DATASET_DIR = re.compile(r"^\d+_(.+)$")
_TOKEN = re.compile(r"[a-z0-9]+")


def raw_metadata(header: Header) -> dict[str, str]:
    """The header's string metadata, plus scalar pickle extras (A1111 ``name``, ``step``...)."""
    raw = {k: v for k, v in header.metadata.items() if isinstance(v, str)}
    for key, value in header.extras.items():
        if isinstance(key, str) and isinstance(value, str | int | float) and key not in raw:
            raw[key] = str(value)
    return raw


def read_metadata(raw: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Normalised metadata worth showing, and warnings for values that could not be read."""
    out: dict[str, Any] = {}
    warnings: list[str] = []
    for name, sources in METADATA_SOURCES.items():
        for source in sources:
            value = raw.get(source)
            if value is None or not value.strip() or value.strip().lower() == "none":
                continue
            try:
                parsed = _PARSERS.get(name, _text)(value)
            except (ValueError, TypeError) as exc:
                warnings.append(f"metadata {source}: unreadable value ({exc})")
                continue
            if parsed is not None:
                out[name] = parsed
                break
    tags, tag_warning = tag_frequency(raw)
    if tag_warning:
        warnings.append(tag_warning)
    if tags:
        out["tag_frequency"] = [[tag, count] for tag, count in tags.most_common(TOP_TAGS)]
    triggers = trigger_words(raw, tags)
    if triggers:
        out["trigger_words"] = triggers
    return out, warnings


def tag_frequency(raw: dict[str, str]) -> tuple[Counter, str | None]:
    """kohya ``ss_tag_frequency`` ({dataset dir: {tag: count}}) summed over directories."""
    text = raw.get("ss_tag_frequency")
    counts: Counter = Counter()
    if not text:
        return counts, None
    try:
        data = json.loads(text)
        for per_dir in data.values():
            for tag, count in per_dir.items():
                tag = str(tag).strip()
                if tag:
                    counts[tag] += int(count)
    except (ValueError, TypeError, AttributeError) as exc:
        return Counter(), f"metadata ss_tag_frequency: unreadable value ({exc})"
    return counts, None


def trigger_words(raw: dict[str, str], tags: Counter) -> list[str]:
    """Activation tokens: the declared phrase, else frequent tags that are not generic.

    Trainers put the activation token in every caption, so it is among the most frequent
    tags; so are generic booru tags ("1girl", "solo"), which are dropped by a word list.
    """
    phrase = raw.get("modelspec.trigger_phrase", "")
    declared = [p.strip() for p in phrase.split(",") if p.strip()]
    if declared:
        return declared[:MAX_TRIGGER_WORDS]
    if tags:
        top = tags.most_common(1)[0][1]
        return [
            tag
            for tag, count in tags.most_common()
            if count >= TRIGGER_MIN_SHARE * top and tag.lower() not in GENERIC_TAGS
        ][:MAX_TRIGGER_WORDS]
    # captionless DreamBooth-style training: the folder name "10_ohwx woman" is the caption
    try:
        dirs = json.loads(raw.get("ss_dataset_dirs") or "{}")
        names = [m.group(1) for d in dirs if (m := _DATASET_DIR.match(str(d)))]
    except (ValueError, TypeError):
        return []
    return names[:MAX_TRIGGER_WORDS]


def base_from_metadata(raw: dict[str, str]) -> BaseClaim | None:
    """What the metadata says the model (or the model it was trained for) is."""
    variants = _metadata_variants(raw)
    claim = _architecture_claim(raw) or _version_claim(raw, variants)
    if claim is None and _flag(raw, "ss_v2"):
        claim = BaseClaim(Base.SD2, "ss_v2 = True", "metadata", DECISIVE)
    implementation = (raw.get("modelspec.implementation") or "").lower()
    if claim is None and "black-forest-labs/flux" in implementation:
        fact = f"modelspec.implementation {implementation!r}"
        claim = BaseClaim(Base.FLUX, fact, "metadata", DECISIVE)
    gguf_arch = (raw.get("general.architecture") or "").strip().lower()
    if claim is None and gguf_arch in GGUF_ARCHITECTURES:
        fact = f"GGUF general.architecture {gguf_arch!r}"
        claim = BaseClaim(GGUF_ARCHITECTURES[gguf_arch], fact, "metadata", LIKELY)
    if claim is None:
        return None
    claim.variants = tuple(dict.fromkeys([*claim.variants, *variants]))
    if claim.base is Base.SD2 and claim.edition is None and Variant.V_PREDICTION in claim.variants:
        claim.edition = Edition.SD2_768_V  # SD2 v-prediction is the 768-v line
    return claim


def unknown_architecture(raw: dict[str, str]) -> str | None:
    """The ``modelspec.architecture`` value when it names nothing pantry knows."""
    arch = (raw.get("modelspec.architecture") or "").strip()
    if arch and _architecture_claim(raw) is None:
        return arch[:80]
    return None


def _metadata_variants(raw: dict[str, str]) -> list[Variant]:
    variants: list[Variant] = []
    prediction = raw.get("modelspec.prediction_type", raw.get("modelspec.predict_key", ""))
    if prediction.strip().lower() in V_PREDICTION_VALUES or _flag(raw, "ss_v_parameterization"):
        variants.append(Variant.V_PREDICTION)
    if _flag(raw, "ss_zero_terminal_snr"):
        variants.append(Variant.ZTSNR)
    return variants


def _architecture_claim(raw: dict[str, str]) -> BaseClaim | None:
    arch = raw.get("modelspec.architecture")
    if not arch:
        return None
    key, _ = normalise_architecture(arch)
    fact = f"modelspec.architecture {arch[:80]!r}"
    known = ARCHITECTURES.get(key)
    if known:
        base, edition, arch_variants = known
        return BaseClaim(base, fact, "metadata", DECISIVE, edition, arch_variants)
    family = next((b for p, b in ARCHITECTURE_PREFIXES if key.startswith(p)), None)
    if family is not None:
        return BaseClaim(family, fact + f" (a {family.value} release)", "metadata", DECISIVE)
    return None


def _version_claim(raw: dict[str, str], variants: list[Variant]) -> BaseClaim | None:
    text = (raw.get("ss_base_model_version") or "").strip()
    version = text.lower()
    if not version or version == "none":
        return None
    if version.endswith("_v"):
        version = version[:-2]
        variants.append(Variant.V_PREDICTION)
    known_version = BASE_MODEL_VERSIONS.get(version)
    if known_version is None:
        base = next((b for p, b in BASE_MODEL_VERSION_PREFIXES if version.startswith(p)), None)
        known_version = (base, None) if base else None
    if known_version is None:
        return None
    base, edition = known_version
    return BaseClaim(base, f"ss_base_model_version {text[:40]!r}", "metadata", DECISIVE, edition)


def _flag(raw: dict[str, str], key: str) -> bool:
    return (raw.get(key) or "").strip().lower() in TRUE_VALUES


def normalise_architecture(value: str) -> tuple[str, str | None]:
    """("stable-diffusion-xl-v1-base", "lora") from e.g. "Stable-Diffusion-XL-v1-Base/LoRA"."""
    text = value.strip().lower().replace(".", "-").replace("_", "-").replace(" ", "-")
    suffix = None
    if "/" in text:
        text, _, tail = text.partition("/")
        suffix = tail if tail in ADAPTER_SUFFIXES else tail or None
    return text, suffix


def lineage_from_metadata(raw: dict[str, str]) -> tuple[str, str, str, bool] | None:
    """(lineage, fact, source, strong) from the training base's hash or name, or a title.

    Never from tensors. ``strong`` when a hash or the training base's file name or id says it;
    a title or tag that names the family is weaker.
    """
    for key in ("ss_new_sd_model_hash", "ss_sd_model_hash"):
        value = _hex(raw.get(key, ""))
        known = KNOWN_SHA256.get(value) if value else None
        if known and known.lineage:
            return known.lineage, f"{key} is {known.known_as}", "hash", True
    for key in LINEAGE_NAME_SOURCES:
        value = (raw.get(key) or "").lower()
        for entry in LINEAGES if value else ():
            word = next((w for w in entry.in_names if w in value), None)
            if word:
                fact = f"training base {key} {raw[key][:80]!r} names {entry.lineage} ({word!r})"
                return entry.lineage, fact, "metadata", True
    for key in LINEAGE_TITLE_SOURCES:
        value = (raw.get(key) or "").lower()
        for entry in LINEAGES if value else ():
            word = _title_word(value, entry.in_titles)
            if word:
                fact = f"{key} {raw[key][:80]!r} names {entry.lineage} ({word!r})"
                return entry.lineage, fact, "metadata", False
    return None


def base_from_training_name(raw: dict[str, str]) -> tuple[Base, str] | None:
    """(base, fact) when the training base is a well-known release named by file or hub id."""
    for key in LINEAGE_NAME_SOURCES:
        value = (raw.get(key) or "").lower()
        hit = next(((n, b) for n, b in TRAINING_BASE_NAMES if n in value), None) if value else None
        if hit is not None:
            return hit[1], f"training base {key} {raw[key][:80]!r} is a {hit[1].value} release"
    return None


def _title_word(text: str, words: tuple[str, ...]) -> str | None:
    """The first of ``words`` in free text: single words as whole tokens, others as substrings."""
    tokens = set(_TOKEN.findall(text))
    return next((w for w in words if (w in tokens if w.isalnum() else w in text)), None)


# --- value parsers ---------------------------------------------------------------------------


def _text(value: str) -> str:
    value = value.strip()
    return value[:MAX_TEXT] + "…" if len(value) > MAX_TEXT else value


def _int(value: str) -> int:
    match = _INT.match(value)
    if not match:
        raise ValueError(f"not a whole number: {value[:40]!r}")
    return int(match.group(1))


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        if value.strip().lower() in ("dynamic", "null"):
            return None
        raise ValueError(f"not a number: {value[:40]!r}") from None


def _resolution(value: str) -> str:
    match = _RESOLUTION.search(value)
    if match:
        return f"{match.group(1)}x{match.group(2)}"
    side = _int(value)  # a single number means square
    return f"{side}x{side}"


def _architecture(value: str) -> str:
    key, suffix = normalise_architecture(value)
    return f"{key}/{suffix}" if suffix else key


def _json_object(value: str) -> dict:
    data = json.loads(value)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _tags(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]


def _hex(value: str) -> str:
    value = value.strip().lower()
    return value[2:] if value.startswith("0x") else value


def _prediction(value: str) -> str:
    value = value.strip().lower()
    return "v" if value in V_PREDICTION_VALUES else value


_PARSERS = {
    "clip_skip": _int,
    "resolution": _resolution,
    "architecture": _architecture,
    "network_args": _json_object,
    "network_dim": _int,
    "network_alpha": _float,
    "tags": _tags,
    "training_base_hash": _hex,
    "prediction_type": _prediction,
    "training_images": _int,
    "epochs": _int,
    "steps": _int,
}
