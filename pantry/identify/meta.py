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
from pantry.identify.taxonomy import Base, Variant
from pantry.identify.verdict import DECISIVE, BaseClaim
from pantry.identify.vocab import (
    ADAPTER_SUFFIXES,
    ARCHITECTURES,
    BASE_MODEL_VERSION_PREFIXES,
    BASE_MODEL_VERSIONS,
    GENERIC_TAGS,
    LINEAGE_SOURCES,
    LINEAGE_WORDS,
    MAX_TEXT,
    MAX_TRIGGER_WORDS,
    METADATA_SOURCES,
    TOP_TAGS,
    TRIGGER_MIN_SHARE,
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
    variants: list[Variant] = []
    if raw.get(
        "modelspec.prediction_type", raw.get("modelspec.predict_key", "")
    ).strip().lower() in (V_PREDICTION_VALUES):
        variants.append(Variant.V_PREDICTION)
    arch = raw.get("modelspec.architecture")
    if arch:
        key, _ = normalise_architecture(arch)
        known = ARCHITECTURES.get(key)
        if known:
            base, edition, arch_variants = known
            return BaseClaim(
                base,
                f"modelspec.architecture {arch!r}",
                "metadata",
                DECISIVE,
                edition,
                tuple(dict.fromkeys([*arch_variants, *variants])),
            )
    version = (raw.get("ss_base_model_version") or "").strip().lower()
    if version:
        if version.endswith("_v"):
            version = version[:-2]
            variants.append(Variant.V_PREDICTION)
        known_version = BASE_MODEL_VERSIONS.get(version)
        if known_version is None:
            base = next((b for p, b in BASE_MODEL_VERSION_PREFIXES if version.startswith(p)), None)
            known_version = (base, None) if base else None
        if known_version:
            base, edition = known_version
            fact = f"ss_base_model_version {raw['ss_base_model_version']!r}"
            return BaseClaim(base, fact, "metadata", DECISIVE, edition, tuple(variants))
    if (raw.get("ss_v2") or "").strip().lower() == "true":
        return BaseClaim(Base.SD2, "ss_v2 = True", "metadata", DECISIVE, None, tuple(variants))
    implementation = (raw.get("modelspec.implementation") or "").lower()
    if "black-forest-labs/flux" in implementation:
        fact = f"modelspec.implementation {implementation!r}"
        return BaseClaim(Base.FLUX, fact, "metadata", DECISIVE, None, tuple(variants))
    return None


def normalise_architecture(value: str) -> tuple[str, str | None]:
    """("stable-diffusion-xl-v1-base", "lora") from e.g. "Stable-Diffusion-XL-v1-Base/LoRA"."""
    text = value.strip().lower().replace(".", "-").replace("_", "-").replace(" ", "-")
    suffix = None
    if "/" in text:
        text, _, tail = text.partition("/")
        suffix = tail if tail in ADAPTER_SUFFIXES else tail or None
    return text, suffix


def lineage_from_metadata(raw: dict[str, str]) -> tuple[str, str, str] | None:
    """(lineage, fact, source) from names or hashes of the training base; never from tensors."""
    for key in ("ss_new_sd_model_hash", "ss_sd_model_hash"):
        value = _hex(raw.get(key, ""))
        known = KNOWN_SHA256.get(value) if value else None
        if known and known.lineage:
            return known.lineage, f"{key} is {known.known_as}", "hash"
    for key in LINEAGE_SOURCES:
        value = (raw.get(key) or "").lower()
        if not value:
            continue
        tokens = set(_TOKEN.findall(value))
        # file names glue words together ("ponyDiffusionV6XL"): search them as substrings
        loose = key in ("ss_sd_model_name", "sd_checkpoint_name", "modelspec.architecture")
        for lineage, words in LINEAGE_WORDS:
            if any((w in value) if loose else (w in tokens) for w in words):
                return lineage, f"{key} {raw[key][:80]!r} names {lineage}", "metadata"
    return None


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
