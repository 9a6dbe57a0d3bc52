"""A1111 infotext (the PNG ``parameters`` text) <-> Recipe.

The reader follows A1111's ``parse_generation_parameters``: the last line holds the
parameters when the parameter regex finds at least 3 ``Key: value`` pairs in it; lines before
it are the prompt, then the negative prompt from the line starting ``Negative prompt:``.
Quoted values are JSON strings. On top of that it copes with what other writers produce:
CRLF, a BOM, trailing text after the parameter line, combined sampler names
("DPM++ 2M Karras"), ComfyUI sampler names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pantry.catalog.asset import HASH_ADDNET, HASH_SHA256
from pantry.errors import PantryError, RecipeError
from pantry.recipes.model import Recipe, ResolvedRecipe
from pantry.recipes.prompt import drop_model_extension
from pantry.recipes.samplers import schedule_label, scheduler_from_label, split_sampler

# A1111's parameter regex (modules/infotext_utils.py), and its "WxH" size regex.
PARAM_RE = re.compile(r"""\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""")
SIZE_RE = re.compile(r"^(\d+)x(\d+)$")
NEGATIVE_PREFIX = "Negative prompt:"
MIN_PARAMS = 3  # fewer pairs on the last line: A1111 reads it as prompt text

# Keys that become Recipe fields; every other key is kept in Recipe.extra as written.
FIELD_KEYS = {
    "Steps",
    "Sampler",
    "Schedule type",
    "Scheduler",
    "CFG scale",
    "Seed",
    "Size",
    "Model",
    "VAE",
    "Clip skip",
}
# Where the writer puts the recipe fields, in A1111's order; extra keys follow, "Version" last.
LEADING_KEYS = ("Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size")
MODEL_KEYS = ("Model hash", "Model", "VAE hash", "VAE")
TRAILING_KEYS = ("Version", "User")
TRAILING_TEXT_KEY = "Trailing text"  # lines some writers put after the parameter line


@dataclass
class Unmatched:
    """A resource the infotext names that the catalog could not match."""

    slot: str  # checkpoint | vae | lora | embedding
    name: str
    hash: str | None
    reason: str

    def __str__(self) -> str:
        digest = f" (hash {self.hash})" if self.hash else ""
        return f"{self.slot} {self.name!r}{digest}: {self.reason}"


@dataclass
class InfotextReport:
    unmatched: list[Unmatched] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # values that could not be read, etc.
    checked: bool = False  # whether a catalog was consulted


@dataclass
class ParsedInfotext:
    recipe: Recipe
    report: InfotextReport


@dataclass
class InfotextHashes:
    """Hashes and names to write; ``hashes_from_resolved`` fills it from catalogued assets."""

    model: str | None = None  # AutoV2, 10 hex
    model_name: str | None = None
    vae: str | None = None
    vae_name: str | None = None
    loras: dict[str, str] = field(default_factory=dict)  # name in prompt -> 12 hex
    embeddings: dict[str, str] = field(default_factory=dict)  # name -> 12 hex


def read_infotext(text: str, source: str | Path | None = None) -> tuple[str, str, dict[str, str]]:
    """Split infotext into (prompt, negative prompt, raw parameters), as A1111 reads it.

    Raises ``RecipeError`` (naming ``source``) when the text is empty or has no parameter line.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").strip()
    if not text:
        raise RecipeError(source, "the infotext is empty")
    lines = text.split("\n")
    index = _parameter_line_index(lines)
    if index is None:
        raise RecipeError(
            source, "no parameter line (like 'Steps: 20, Sampler: Euler a, CFG scale: 7') found"
        )
    params = _read_params(lines[index])
    trailing = "\n".join(line.strip() for line in lines[index + 1 :]).strip()
    if trailing:
        params[TRAILING_TEXT_KEY] = trailing
    prompt, negative = _split_prompts(lines[:index])
    return prompt, negative, params


def parse_infotext(
    text: str, catalog: Any | None = None, source: str | Path | None = None
) -> ParsedInfotext:
    """Infotext -> Recipe, with a report of what could not be read or matched.

    With a catalog, hashes and names are matched against it: the recipe then names the
    catalogued checkpoint/VAE (by name), and whatever stays unmatched is listed in the report
    while the recipe keeps the infotext's name as the REF.
    """
    prompt, negative, params = read_infotext(text, source)
    report = InfotextReport()
    recipe = Recipe(checkpoint="", prompt=prompt, negative_prompt=negative)
    _apply_params(recipe, params, report)
    if catalog is not None:
        _match_catalog(recipe, catalog, report)
    return ParsedInfotext(recipe, report)


def write_infotext(recipe: Recipe, hashes: InfotextHashes | None = None) -> str:
    """Recipe -> infotext that A1111 (and ``parse_infotext``) reads back.

    LoRAs from the recipe's [[loras]] table are appended to the prompt as ``<lora:REF:W>``
    tags, since that is the only way an infotext names LoRAs. Hashes not given in ``hashes``
    are taken from ``recipe.extra`` (where ``parse_infotext`` keeps them).
    """
    hashes = hashes or InfotextHashes()
    prompt = recipe.prompt
    tags = [_lora_tag(spec.ref, spec.weight, spec.unet_weight) for spec in recipe.loras]
    if tags:
        prompt = (prompt + (", " if prompt.strip() else "") + ", ".join(tags)).strip()

    params: dict[str, Any] = {
        "Steps": recipe.steps,
        "Sampler": recipe.sampler,
        "Schedule type": schedule_label(recipe.scheduler) if recipe.scheduler else None,
        "CFG scale": _num(recipe.cfg_scale),
        "Seed": recipe.seed,
        "Size": f"{recipe.width}x{recipe.height}",
        "Model hash": hashes.model or recipe.extra.get("Model hash"),
        "Model": hashes.model_name or _model_name(recipe.checkpoint),
        "VAE hash": hashes.vae or recipe.extra.get("VAE hash"),
        "VAE": hashes.vae_name or recipe.vae,
        "Clip skip": recipe.clip_skip if recipe.clip_skip and recipe.clip_skip > 1 else None,
    }
    extra = {k: v for k, v in recipe.extra.items() if k not in params and k != TRAILING_TEXT_KEY}
    if hashes.loras:
        extra["Lora hashes"] = _name_hashes(hashes.loras)
    if hashes.embeddings:
        extra["TI hashes"] = _name_hashes(hashes.embeddings)
    last = {k: extra.pop(k) for k in TRAILING_KEYS if k in extra}
    params.update(extra)
    params.update(last)

    line = ", ".join(_pair(k, v) for k, v in params.items() if v is not None and v != "")
    parts = [prompt]
    if recipe.negative_prompt:
        parts.append(f"{NEGATIVE_PREFIX} {recipe.negative_prompt}")
    parts.append(line)
    return "\n".join(parts)


def hashes_from_resolved(resolved: ResolvedRecipe) -> InfotextHashes:
    """The hashes A1111 would write for the resolved assets (AutoV2, addnet shorthash, ...)."""
    hashes = InfotextHashes()
    if resolved.checkpoint.asset is not None:
        hashes.model = _short(resolved.checkpoint.asset, HASH_SHA256, 10)
        hashes.model_name = resolved.checkpoint.asset.name
    if resolved.vae and resolved.vae.asset is not None:
        hashes.vae = _short(resolved.vae.asset, HASH_SHA256, 10)
        hashes.vae_name = resolved.vae.asset.path.name
    for item in resolved.loras:
        if item.asset is not None:
            digest = _short(item.asset, HASH_ADDNET, 12) or _short(item.asset, HASH_SHA256, 12)
            if digest:
                hashes.loras[_safe_name(item.ref)] = digest
    for item in resolved.embeddings:
        if item.asset is not None and (digest := _short(item.asset, HASH_SHA256, 12)):
            hashes.embeddings[_safe_name(item.ref)] = digest
    return hashes


# --- reading ---------------------------------------------------------------------------


def _parameter_line_index(lines: list[str]) -> int | None:
    """A1111 looks only at the last line; other writers add lines after it, so look back for
    the last line with enough pairs that starts like a parameter line."""
    if len(PARAM_RE.findall(lines[-1])) >= MIN_PARAMS:
        return len(lines) - 1
    for index in range(len(lines) - 2, -1, -1):
        line = lines[index].strip()
        if line.startswith("Steps:") and len(PARAM_RE.findall(line)) >= MIN_PARAMS:
            return index
    return None


def _read_params(line: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, raw in PARAM_RE.findall(line):
        value = raw.strip()
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                value = value[1:-1]
        params[key.strip()] = str(value)
    return params


def _split_prompts(lines: list[str]) -> tuple[str, str]:
    prompt: list[str] = []
    negative: list[str] = []
    in_negative = False
    for raw in lines:
        line = raw.strip()
        if line.startswith(NEGATIVE_PREFIX) and not in_negative:
            in_negative = True
            line = line[len(NEGATIVE_PREFIX) :].strip()
        (negative if in_negative else prompt).append(line)
    return "\n".join(prompt).strip(), "\n".join(negative).strip()


def _apply_params(recipe: Recipe, params: dict[str, str], report: InfotextReport) -> None:
    def number(key: str, kind: type, default: Any) -> Any:
        if key not in params:
            return default
        try:
            return kind(float(params[key])) if kind is int else kind(params[key])
        except ValueError:
            report.notes.append(f"{key}: {params[key]!r} is not a number; kept {default}")
            return default

    recipe.steps = number("Steps", int, recipe.steps)
    recipe.cfg_scale = number("CFG scale", float, recipe.cfg_scale)
    recipe.seed = number("Seed", int, recipe.seed)
    recipe.clip_skip = number("Clip skip", int, 1)  # A1111: absent means 1
    if "Sampler" in params:
        recipe.sampler, recipe.scheduler = split_sampler(params["Sampler"])
    for key in ("Schedule type", "Scheduler"):
        if params.get(key):
            recipe.scheduler = scheduler_from_label(params[key])
    if "Size" in params:
        size = SIZE_RE.match(params["Size"].strip())
        if size:
            recipe.width, recipe.height = int(size.group(1)), int(size.group(2))
        else:
            report.notes.append(f"Size: {params['Size']!r} is not WIDTHxHEIGHT; kept 512x512")

    recipe.checkpoint = params.get("Model") or params.get("Model hash") or ""
    if not recipe.checkpoint:
        report.notes.append("the infotext names no model (no 'Model' or 'Model hash')")
    if params.get("VAE"):
        recipe.vae = drop_model_extension(params["VAE"])
    elif params.get("VAE hash"):
        recipe.vae = params["VAE hash"]
    recipe.extra = {k: v for k, v in params.items() if k not in FIELD_KEYS}


def _match_catalog(recipe: Recipe, catalog: Any, report: InfotextReport) -> None:
    from pantry.recipes.resolve import resolve  # resolve imports this module's neighbours

    report.checked = True
    resolved = resolve(recipe, catalog)
    for item, field_name in ((resolved.checkpoint, "checkpoint"), (resolved.vae, "vae")):
        if item is not None and item.asset is not None:
            setattr(recipe, field_name, _stable_ref(item.asset, catalog))
    hash_keys = {"checkpoint": "Model hash", "vae": "VAE hash"}
    for item in resolved.all():
        if item.problem is None:
            continue
        digest = recipe.extra.get(hash_keys.get(item.slot, "")) or None
        reason = item.detail or item.problem
        if item.candidates:
            names = ", ".join(str(c.path) for c in item.candidates[:5])
            reason = f"{item.problem}: {names}"
        report.unmatched.append(Unmatched(item.slot, item.ref, digest, reason))


def _stable_ref(asset: Any, catalog: Any) -> str:
    """The asset's name when the name alone finds it again, else a hash prefix."""
    try:
        if catalog.resolve(asset.name).id == asset.id:
            return asset.name
    except PantryError:
        pass
    sha = (asset.hashes or {}).get(HASH_SHA256)
    return sha[:12] if sha else str(asset.path)


# --- writing ---------------------------------------------------------------------------


def _pair(key: str, value: Any) -> str:
    text = str(value)
    if text == key:
        return key  # A1111 writes a pair whose value equals its key as the bare key
    return f"{key}: {_quote(text)}"


def _quote(text: str) -> str:
    # A1111's rule: JSON-quote values containing ",", ":" or a newline; a leading quote too,
    # or the reader would unquote it.
    if any(ch in text for ch in ",:\n") or text.startswith('"'):
        return json.dumps(text, ensure_ascii=False)
    return text


def _lora_tag(ref: str, weight: float, unet_weight: float | None) -> str:
    body = f"{_model_name(ref)}:{_num(weight)}"
    if unet_weight is not None:
        body += f":{_num(unet_weight)}"
    return f"<lora:{body}>"


def _name_hashes(pairs: dict[str, str]) -> str:
    return ", ".join(f"{name}: {digest}" for name, digest in pairs.items())


def _model_name(ref: str) -> str:
    """What the "Model:" key says: the file name without extension, not a path or hf:// ref."""
    name = ref.rstrip("/").rsplit("/", 1)[-1]
    return drop_model_extension(name)


def _safe_name(name: str) -> str:
    return name.replace(":", "").replace(",", "").strip()


def _num(value: float) -> str:
    """7.0 -> "7", 6.5 -> "6.5": how A1111 infotexts usually show numbers."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _short(asset: Any, key: str, length: int) -> str | None:
    digest = (asset.hashes or {}).get(key)
    return digest[:length].lower() if digest else None
