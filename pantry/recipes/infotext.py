"""A1111 infotext (the PNG ``parameters`` text) <-> Recipe.

The reader follows A1111's ``parse_generation_parameters``: the last line holds the
parameters when the parameter regex finds at least 3 ``Key: value`` pairs in it; lines before
it are the prompt, then the negative prompt from the line starting ``Negative prompt:``.
Quoted values are JSON strings. On top of that it copes with what other writers produce:
CRLF, a BOM, trailing text after the parameter line, combined sampler names
("DPM++ 2M Karras"), ComfyUI and InvokeAI sampler names, unquoted JSON values (Civitai's
``Hashes: {...}``), Forge's ``Module N`` VAE/text encoders, SD.Next's ``LoRA hashes``, and the
JSON metadata of Fooocus, SwarmUI, InvokeAI and NovelAI (see ``json_meta``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pantry.catalog.asset import HASH_ADDNET, HASH_SHA256
from pantry.errors import PantryError, RecipeError
from pantry.recipes.json_meta import is_comfy_graph, parts_from_json
from pantry.recipes.model import LoraSpec, Recipe, ResolvedRecipe
from pantry.recipes.prompt import drop_model_extension, prompt_loras
from pantry.recipes.samplers import (
    default_schedule,
    schedule_label,
    scheduler_from_label,
    split_sampler,
)

# A1111's parameter regex (modules/infotext_utils.py), and its "WxH" size regex.
PARAM_RE = re.compile(r"""\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""")
SIZE_RE = re.compile(r"^(\d+)\s*[x×*]\s*(\d+)$")  # A1111 writes "512x768"; others add spaces
KEY_RE = re.compile(r"\w[\w \-/]+")  # what PARAM_RE accepts as a key
NEGATIVE_PREFIX = "Negative prompt:"
MIN_PARAMS = 3  # fewer pairs on the last line: A1111 reads it as prompt text
# Unquoted JSON values (Civitai "Hashes: {...}", "Civitai resources: [...]") and what must
# follow one for it to be the whole value.
JSON_STARTS = ("{", "[")
JSON_END_RE = re.compile(r"\s*(?:,|$)")
# "Model: name [hash]" as some writers (and A1111's own "Hires checkpoint") put it
MODEL_WITH_HASH_RE = re.compile(r"^(.*?)\s*\[([0-9a-fA-F]{8,64})\]$")
# VAE values that name no file: the checkpoint's own VAE (Forge, Fooocus) or SD.Next's TAESD
NO_VAE_VALUES = {"", "automatic", "none", "default (model)", "baked vae", "taesd", "built-in"}
# Forge "Module N" values that are VAEs rather than text encoders ("ae" is Flux's VAE file).
VAE_MODULE_RE = re.compile(r"(^|[^a-z0-9])(vae|ae)([^a-z0-9]|$)")
# Civitai's "Hashes" JSON keys: "model", "vae", "lora:NAME", "embed:NAME" -> infotext keys.
HASHES_SINGLE = {"model": "Model hash", "vae": "VAE hash"}
HASHES_PREFIXED = {
    "lora": "Lora hashes",
    "lyco": "Lora hashes",
    "embed": "TI hashes",
    "embedding": "TI hashes",
    "ti": "TI hashes",
}
OLD_HIRES_PIXELS = 512 * 512  # A1111 < 1.0 picked the first pass size from this area

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

    JSON metadata (Fooocus, SwarmUI, InvokeAI, NovelAI) is accepted too and mapped onto
    A1111's keys. Raises ``RecipeError`` (naming ``source``) when the text is empty, has no
    parameter line, or is JSON that carries no generation parameters (a ComfyUI graph).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").strip()
    if not text:
        raise RecipeError(source, "the infotext is empty")
    if text.startswith("{"):
        parts = _json_parts(text, source)
        if parts is not None:
            return parts
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
        # A1111 joins added network tags with spaces: once the tags are stripped for encoding,
        # the prompt tokenizes exactly as it did before they were added.
        prompt = (prompt + (" " if prompt.strip() else "") + " ".join(tags)).strip()

    model_hash = hashes.model or recipe.extra.get("Model hash")
    vae_hash = hashes.vae or recipe.extra.get("VAE hash")
    params: dict[str, Any] = {
        "Steps": recipe.steps,
        "Sampler": recipe.sampler,
        "Schedule type": schedule_label(recipe.scheduler) if recipe.scheduler else None,
        "CFG scale": _num(recipe.cfg_scale),
        "Seed": recipe.seed,
        "Size": f"{recipe.width}x{recipe.height}",
        "Model hash": model_hash,
        "Model": hashes.model_name or _written_name(recipe.checkpoint, recipe.extra.get("Model")),
        "VAE hash": vae_hash,
        "VAE": hashes.vae_name or _written_name(recipe.vae, recipe.extra.get("VAE")),
        "Clip skip": recipe.clip_skip if recipe.clip_skip and recipe.clip_skip > 1 else None,
    }
    if params["Model"] == model_hash:
        params["Model"] = None  # the recipe names the checkpoint by the infotext's hash
    if recipe.vae and (recipe.vae == vae_hash or recipe.vae in _forge_modules(recipe.extra)):
        params["VAE"] = None  # named by hash or by a Forge module: Forge reads "VAE" instead
    extra: dict[str, Any] = {}
    for key, value in recipe.extra.items():
        if key == TRAILING_TEXT_KEY:
            continue
        if key in params:
            if params[key] is None:  # e.g. "VAE: Automatic", kept when no VAE file is named
                params[key] = value
            continue
        extra[_key(key)] = value
    from pantry.recipes.resolve import parse_name_hashes  # resolve imports neighbours

    # Catalog hashes replace the ones read from an infotext; names the catalog could not
    # match keep the hash they came with.
    for key, found in (("Lora hashes", hashes.loras), ("TI hashes", hashes.embeddings)):
        if found:
            extra[key] = _name_hashes({**parse_name_hashes(extra.get(key, "")), **found})
    last = {k: extra.pop(k) for k in TRAILING_KEYS if k in extra}
    params.update(extra)
    params.update(last)

    return format_infotext(prompt, recipe.negative_prompt, params)


def format_infotext(prompt: str, negative_prompt: str, params: dict[str, Any]) -> str:
    """Infotext from its parts, as A1111 writes it: empty values left out, values quoted
    where A1111's reader needs it, no negative-prompt line when there is none."""
    line = ", ".join(_pair(k, v) for k, v in params.items() if v is not None and v != "")
    parts = [prompt]
    if negative_prompt:
        parts.append(f"{NEGATIVE_PREFIX} {negative_prompt}")
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
                hashes.loras[_safe_name(_model_name(item.ref))] = digest  # as the tag names it
    for item in resolved.embeddings:
        if item.asset is not None and (digest := _short(item.asset, HASH_SHA256, 12)):
            hashes.embeddings[_safe_name(item.ref)] = digest
    return hashes


# --- reading ---------------------------------------------------------------------------


def _json_parts(text: str, source: str | Path | None) -> tuple[str, str, dict[str, str]] | None:
    """Known JSON metadata as infotext parts; None when the text is not JSON at all."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    parts = parts_from_json(data)
    if parts is not None:
        return parts
    if is_comfy_graph(data):
        raise RecipeError(
            source, "this is a ComfyUI workflow graph, not generation parameters; not supported"
        )
    raise RecipeError(source, "JSON in no metadata format pantry knows (A1111, Fooocus, ...)")


def _parameter_line_index(lines: list[str]) -> int | None:
    """A1111 looks only at the last line; other writers add lines after it, so look back for
    the last line with enough pairs that starts like a parameter line."""
    if _pair_count(lines[-1]) >= MIN_PARAMS:
        return len(lines) - 1
    for index in range(len(lines) - 2, -1, -1):
        line = lines[index].strip()
        if line.startswith("Steps:") and _pair_count(line) >= MIN_PARAMS:
            return index
    return None


def _pair_count(line: str) -> int:
    # A1111 counts regex matches; an unquoted JSON value only adds to that count.
    return max(len(PARAM_RE.findall(line)), len(_scan_pairs(line)))


def _scan_pairs(line: str) -> list[tuple[str, str]]:
    """A1111's ``re_param.findall``, except that an unquoted JSON object or array value
    (``Hashes: {"model": "…", "lora:x": "…"}``) is taken whole instead of cut at its commas."""
    decoder = json.JSONDecoder()
    pairs = []
    pos = 0
    while match := PARAM_RE.search(line, pos):
        key, value, pos = match.group(1), match.group(2), match.end()
        if value.startswith(JSON_STARTS):
            try:
                _, end = decoder.raw_decode(line, match.start(2))
            except ValueError:
                pass
            else:
                rest = JSON_END_RE.match(line, end)
                if rest:  # the JSON is the whole value, not the start of a longer text
                    value, pos = line[match.start(2) : end], rest.end()
        pairs.append((key, value))
    return pairs


def _read_params(line: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, raw in _scan_pairs(line):
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
        if line.startswith(NEGATIVE_PREFIX):  # A1111 strips the prefix from every such line
            in_negative = True
            line = line[len(NEGATIVE_PREFIX) :].strip()
        (negative if in_negative else prompt).append(line)
    return "\n".join(prompt).strip(), "\n".join(negative).strip()


def _apply_params(recipe: Recipe, params: dict[str, str], report: InfotextReport) -> None:
    """Recipe fields from the parameters; every key that is not a field stays in ``extra``."""
    extra = {k: v for k, v in params.items() if k not in FIELD_KEYS}

    def number(key: str, kind: type, default: Any) -> Any:
        if key not in params:
            return default
        value = params[key].strip()
        try:
            return kind(value)
        except ValueError:
            pass
        try:  # "20.0" steps; int(float()) only as a fallback: it rounds big seeds
            return kind(float(value))
        except (ValueError, OverflowError):
            report.notes.append(f"{key}: {value!r} is not a number; kept {default}")
            extra[key] = params[key]
            return default

    recipe.steps = number("Steps", int, recipe.steps)
    recipe.cfg_scale = number("CFG scale", float, recipe.cfg_scale)
    recipe.seed = number("Seed", int, recipe.seed)
    recipe.clip_skip = number("Clip skip", int, 1)  # A1111: absent means 1
    _apply_sampler(recipe, params, extra, report)
    _apply_size(recipe, params, extra, report)
    _hashes_json(extra, report)
    _apply_model(recipe, params, extra, report)
    _apply_vae(recipe, params, extra)
    _sdnext_lora_hashes(extra)
    recipe.loras = _loras_outside_prompt(recipe.prompt, extra)
    _civitai_lora_notes(recipe.prompt, extra, report)
    recipe.extra = extra


def _apply_sampler(
    recipe: Recipe, params: dict[str, str], extra: dict[str, str], report: InfotextReport
) -> None:
    label = params.get("Sampler", "").strip()
    if label.lower() == "undefined":  # Civitai's generator writes this for some models
        report.notes.append("Sampler: 'Undefined' names no sampler; kept Euler a")
        extra["Sampler"] = label
    elif label:
        recipe.sampler, recipe.scheduler = split_sampler(label)
    schedule = params.get("Schedule type") or params.get("Scheduler")
    if schedule and schedule.strip():
        recipe.scheduler = scheduler_from_label(schedule)
        if recipe.scheduler is None:  # "Automatic": the sampler's own default, as A1111 does
            recipe.scheduler = default_schedule(recipe.sampler)
    if "Schedule type" in params and "Scheduler" in params:
        extra["Scheduler"] = params["Scheduler"]


def _apply_size(
    recipe: Recipe, params: dict[str, str], extra: dict[str, str], report: InfotextReport
) -> None:
    if "Size" in params:
        size = SIZE_RE.match(params["Size"].strip())
        if size:
            recipe.width, recipe.height = int(size.group(1)), int(size.group(2))
        else:
            report.notes.append(f"Size: {params['Size']!r} is not WIDTHxHEIGHT; kept 512x512")
            extra["Size"] = params["Size"]
    else:
        # A1111's reader splits "Size" into "Size-1"/"Size-2"; some writers emit those keys
        for width_key, height_key in (("Size-1", "Size-2"), ("Width", "Height")):
            if extra.get(width_key, "").isdigit() and extra.get(height_key, "").isdigit():
                recipe.width, recipe.height = int(extra.pop(width_key)), int(extra.pop(height_key))
                break
    first_pass = SIZE_RE.match(extra.get("First pass size", "").strip())
    if first_pass:
        # A1111 before 1.0: "Size" is the hires result, the first pass was rendered smaller.
        extra.setdefault("Hires resize", f"{recipe.width}x{recipe.height}")
        width, height = int(first_pass.group(1)), int(first_pass.group(2))
        if not (width and height):
            width, height = _old_first_pass_size(recipe.width, recipe.height)
        recipe.width, recipe.height = width, height


def _old_first_pass_size(width: int, height: int) -> tuple[int, int]:
    """A1111's old hires fix rendered first at about 512x512 pixels, in steps of 64."""
    scale = math.sqrt(OLD_HIRES_PIXELS / (width * height))
    return math.ceil(scale * width / 64) * 64, math.ceil(scale * height / 64) * 64


def _apply_model(
    recipe: Recipe, params: dict[str, str], extra: dict[str, str], report: InfotextReport
) -> None:
    name = params.get("Model", "").strip()
    with_hash = MODEL_WITH_HASH_RE.match(name)
    if with_hash:
        name = with_hash.group(1)
        extra.setdefault("Model hash", with_hash.group(2).lower())
    name = _model_name(name.replace("\\", "/")) if name else ""
    if params.get("Model") and name != params["Model"].strip():
        extra["Model"] = params["Model"]  # the file name or path as written
    recipe.checkpoint = name or extra.get("Model hash", "")
    if not recipe.checkpoint:
        named = [_civitai_label(r) for r in _civitai_resources(extra, "checkpoint")]
        hint = f" (Civitai resources name {' or '.join(named)})" if named else ""
        report.notes.append(
            f"the infotext names no model (no 'Model' or 'Model hash'){hint}; "
            "set checkpoint in the recipe before linting it"
        )


def _apply_vae(recipe: Recipe, params: dict[str, str], extra: dict[str, str]) -> None:
    value = params.get("VAE", "").strip()
    if value.lower() not in NO_VAE_VALUES:
        recipe.vae = _model_name(value.replace("\\", "/"))
        if recipe.vae != value:
            extra["VAE"] = value
        return
    if value:
        extra["VAE"] = value  # says "the checkpoint's own"; keep it for the writer
    modules = [v for k, v in extra.items() if k.startswith("Module ") and VAE_MODULE_RE.search(v)]
    if modules:  # Forge: the VAE among the VAE / text-encoder modules
        recipe.vae = _model_name(modules[0].replace("\\", "/"))
    elif extra.get("VAE hash"):
        recipe.vae = extra["VAE hash"]


def _hashes_json(extra: dict[str, str], report: InfotextReport) -> None:
    """Civitai's ``Hashes: {"model": …, "lora:NAME": …}`` as the keys the resolver reads
    (only where the infotext does not already carry them)."""
    if "Hashes" not in extra:
        return
    try:
        entries = json.loads(extra["Hashes"])
    except json.JSONDecodeError:
        report.notes.append("Hashes: not valid JSON; kept as text")
        return
    if not isinstance(entries, dict):
        return
    named: dict[str, dict[str, str]] = {}
    for key, digest in entries.items():
        kind, sep, name = str(key).partition(":")
        if str(key).lower() in HASHES_SINGLE:
            extra.setdefault(HASHES_SINGLE[str(key).lower()], str(digest).lower())
        elif sep and kind.lower() in HASHES_PREFIXED:
            named.setdefault(HASHES_PREFIXED[kind.lower()], {})[name] = str(digest).lower()
    for key, pairs in named.items():
        if key not in extra:
            extra[key] = ", ".join(f"{_safe_name(n)}: {d}" for n, d in pairs.items())


def _sdnext_lora_hashes(extra: dict[str, str]) -> None:
    """SD.Next writes ``LoRA networks: a, b`` and ``LoRA hashes: h1, h2`` (hashes only)."""
    hashes = [h.strip() for h in extra.get("LoRA hashes", "").split(",") if h.strip()]
    if not hashes or "Lora hashes" in extra:
        return
    if all(":" in h for h in hashes):
        extra["Lora hashes"] = extra["LoRA hashes"]
        return
    names = [n.strip() for n in extra.get("LoRA networks", "").split(",") if n.strip()]
    if len(names) == len(hashes):  # SD.Next lists both in load order
        extra["Lora hashes"] = ", ".join(
            f"{_safe_name(n)}: {h}" for n, h in zip(names, hashes, strict=True)
        )


def _civitai_resources(extra: dict[str, str], kind: str) -> list[dict[str, Any]]:
    """Entries of Civitai's ``Civitai resources: [...]`` of one type (checkpoint, lora, ...)."""
    try:
        entries = json.loads(extra.get("Civitai resources", "[]"))
    except json.JSONDecodeError:
        return []
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and str(e.get("type", "")).lower() == kind]


def _civitai_label(entry: dict[str, Any]) -> str:
    words = [str(entry[k]) for k in ("modelName", "modelVersionName") if entry.get(k)]
    if words:
        return repr(" ".join(words))
    return f"model version {entry.get('modelVersionId', '?')}"


def _civitai_lora_notes(prompt: str, extra: dict[str, str], report: InfotextReport) -> None:
    """Civitai's generator lists LoRAs in its resources, not as prompt tags; their names are
    Civitai titles, not file names, so they cannot become [[loras]] entries by themselves."""
    if prompt_loras(prompt):
        return  # the prompt tags them, as A1111 and Forge write it
    for entry in [*_civitai_resources(extra, "lora"), *_civitai_resources(extra, "lycoris")]:
        weight = entry.get("weight")
        at = f" at weight {weight}" if isinstance(weight, int | float) else ""
        report.notes.append(
            f"Civitai resources use LoRA {_civitai_label(entry)}{at}, which the prompt does "
            "not tag; add it under [[loras]] with your file's name"
        )


def _loras_outside_prompt(prompt: str, extra: dict[str, str]) -> list[LoraSpec]:
    """Fooocus applies LoRAs that the prompt does not name; it lists them in ``Lora weights``."""
    in_prompt = {spec.ref for spec in prompt_loras(prompt)}
    specs = []
    for item in extra.get("Lora weights", "").split(","):
        name, sep, weight = item.rpartition(":")
        if not sep or not name.strip() or name.strip() in in_prompt:
            continue
        try:
            specs.append(LoraSpec(name.strip(), float(weight)))
        except ValueError:
            continue
    return specs


def _match_catalog(recipe: Recipe, catalog: Any, report: InfotextReport) -> None:
    from pantry.recipes.resolve import (  # resolve imports neighbours
        hash_matches,
        parse_name_hashes,
        resolve,
    )

    report.checked = True
    resolved = resolve(recipe, catalog)
    for item, key in ((resolved.checkpoint, "Model hash"), (resolved.vae, "VAE hash")):
        digest = recipe.extra.get(key)
        asset = item.asset if item is not None else None
        # Only a hashed file can be compared; an unhashed one is not a mismatch.
        hashed = asset is not None and (asset.hashes or {}).get(HASH_SHA256)
        if digest and hashed and not hash_matches(asset, digest, item.slot):
            report.notes.append(
                f"{item.slot} {asset.name!r}: your file's hash "
                f"{_short(asset, HASH_SHA256, 10)} differs from the infotext's {key} "
                f"{digest} (another version of the file?)"
            )
    for item, field_name in ((resolved.checkpoint, "checkpoint"), (resolved.vae, "vae")):
        if item is not None and item.asset is not None:
            setattr(recipe, field_name, _stable_ref(item.asset, catalog))
    digests = {
        "checkpoint": {"": recipe.extra.get("Model hash")},
        "vae": {"": recipe.extra.get("VAE hash")},
        "lora": parse_name_hashes(recipe.extra.get("Lora hashes", "")),
        "embedding": parse_name_hashes(recipe.extra.get("TI hashes", "")),
    }
    for item in resolved.all():
        if item.problem is None:
            continue
        known = digests.get(item.slot, {})
        digest = known.get("") or known.get(_safe_name(item.ref)) or None
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


def _written_name(ref: str | None, as_read: str | None) -> str | None:
    """The name to write: the file name or path the infotext had, when it still names the
    recipe's REF, else the REF's file stem."""
    if not ref:
        return None
    if as_read and _model_name(as_read.replace("\\", "/")) == ref:
        return as_read
    return _model_name(ref)


def _forge_modules(extra: dict[str, Any]) -> set[str]:
    return {_model_name(str(v)) for k, v in extra.items() if k.startswith("Module ")}


def _key(key: str) -> str:
    """A key A1111's regex can read back (TOML recipes may use any characters)."""
    if KEY_RE.fullmatch(key):
        return key
    return re.sub(r"[^\w \-/]", "_", key).strip() or "_"


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
