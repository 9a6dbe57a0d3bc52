"""Recipe TOML: load with validation (errors name file, line and field) and dump.

tomllib reads; it reports no key positions, so a light scan of the text finds the line of each
top-level key and ``[[loras]]`` entry for error messages and lint (``Recipe.lines``). Writing
uses tomli-w, the standard companion of tomllib, because hand-escaping TOML strings (control
characters, quotes, multi-line prompts) is where hand-written writers go wrong.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from pantry.errors import RecipeError
from pantry.recipes.model import LoraSpec, Recipe

SEED_MAX = 2**64 - 1  # ComfyUI seeds use 64 bits; A1111 uses 32

# Top-level scalar keys: (type, minimum, maximum). None: no bound. Order is the dump order.
SCALAR_FIELDS: dict[str, tuple[type, float | None, float | None]] = {
    "name": (str, None, None),
    "checkpoint": (str, None, None),
    "vae": (str, None, None),
    # Only nonsense is refused here; the range each text encoder allows is lint rule PT401.
    "clip_skip": (int, 1, 48),
    "prompt": (str, None, None),
    "negative_prompt": (str, None, None),
    "width": (int, 64, 16384),
    "height": (int, 64, 16384),
    "steps": (int, 1, 1000),
    "cfg_scale": (float, 0, 100),
    "sampler": (str, None, None),
    "scheduler": (str, None, None),
    "seed": (int, -1, SEED_MAX),
}
TABLE_FIELDS = ("loras", "lint", "extra")
LORA_FIELDS: dict[str, tuple[type, float | None, float | None]] = {
    "ref": (str, None, None),
    "weight": (float, -20, 20),
    "unet_weight": (float, -20, 20),
}
LINT_FIELDS = ("ignore",)
# Names other tools use for recipe keys (A1111, ComfyUI, diffusers), with the key they mean;
# spelling close to a key is caught by difflib, these are not close in spelling.
KEY_HINTS = {
    "model": "checkpoint",
    "ckpt": "checkpoint",
    "ckpt_name": "checkpoint",
    "sd_model_checkpoint": "checkpoint",
    "sampler_name": "sampler",
    "guidance_scale": "cfg_scale",
    "num_inference_steps": "steps",
    "size": "width' and 'height",
}
LORA_KEY_HINTS = {
    "name": "ref",
    "lora": "ref",
    "path": "ref",
    "strength": "weight",
    "scale": "weight",
}
KNOWN_KEYS = (*SCALAR_FIELDS, *TABLE_FIELDS)
TYPE_WORDS = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}

TOML_ERROR_LINE_RE = re.compile(r"\s*\(at line (\d+), column \d+\)")
KEY_LINE_RE = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\-]+)\s*=""")
TABLE_LINE_RE = re.compile(r"""^\s*(\[\[?)\s*([A-Za-z0-9_.\-"' ]+?)\s*\]\]?""")


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file; any fault raises a one-line ``RecipeError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(path, f"cannot read: {exc}") from None
    return loads_recipe(text, source=path)


def loads_recipe(text: str, source: str | Path | None = None) -> Recipe:
    """Parse recipe TOML text; ``source`` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = TOML_ERROR_LINE_RE.search(message)
        reason = TOML_ERROR_LINE_RE.sub("", message)
        raise RecipeError(
            source, f"TOML syntax error: {reason}", int(found.group(1)) if found else None
        ) from None
    lines = key_lines(text)
    return _recipe_from_table(data, Path(source) if source else None, lines)


def dump_recipe(recipe: Recipe) -> str:
    """The recipe as TOML that ``loads_recipe`` reads back to an equal recipe."""
    table: dict[str, Any] = {}
    for key in SCALAR_FIELDS:
        value = getattr(recipe, key)
        if value is not None:
            table[key] = value
    if recipe.loras:
        table["loras"] = [_lora_table(spec) for spec in recipe.loras]
    if recipe.lint_ignore:
        table["lint"] = {"ignore": list(recipe.lint_ignore)}
    if recipe.extra:
        table["extra"] = {str(k): v for k, v in recipe.extra.items() if v is not None}
    return tomli_w.dumps(table, multiline_strings=True)


def save_recipe(recipe: Recipe, path: str | Path) -> None:
    Path(path).write_text(dump_recipe(recipe), encoding="utf-8")


def key_lines(text: str) -> dict[str, int]:
    """Line numbers (1-based) of keys: "checkpoint", "loras[0]", "loras[0].weight", "lint.ignore".

    A light scan, not a parser: it skips the inside of multi-line strings and records the
    first line each key appears on.
    """
    found: dict[str, int] = {}
    section: str | None = None
    lora_count = 0
    open_quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote:
            if line.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        table = TABLE_LINE_RE.match(line)
        if table and not KEY_LINE_RE.match(line):
            name = table.group(2).strip().strip("\"'")
            if table.group(1) == "[[" and name == "loras":
                section = f"loras[{lora_count}]"
                lora_count += 1
            else:
                section = name
            found.setdefault(section, number)
            continue
        key = KEY_LINE_RE.match(line)
        if not key:
            if section is None and line.lstrip().startswith("{") and "loras" in found:
                found.setdefault(f"loras[{lora_count}]", number)  # inline-table loras array
                lora_count += 1
            continue
        name = key.group(1).strip("\"'")
        found.setdefault(name if section is None else f"{section}.{name}", number)
        rest = line[key.end() :]
        for quote in ('"""', "'''"):
            if rest.count(quote) % 2 == 1:
                open_quote = quote
    return found


def _recipe_from_table(data: dict[str, Any], source: Path | None, lines: dict[str, int]) -> Recipe:
    def fail(key: str, reason: str) -> RecipeError:
        return RecipeError(source, reason, _line_of(lines, key))

    for key in data:
        if key not in KNOWN_KEYS:
            hint = [KEY_HINTS[key.lower()]] if key.lower() in KEY_HINTS else []
            hint = hint or difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.5)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise fail(key, f"unknown key {key!r}{suggestion}")
    if "checkpoint" not in data:
        raise RecipeError(source, "missing required key 'checkpoint'")

    values = {key: _checked(data.get(key), key, *SCALAR_FIELDS[key], fail) for key in SCALAR_FIELDS}
    values = {key: value for key, value in values.items() if value is not None}
    if not values["checkpoint"].strip():
        raise fail("checkpoint", "checkpoint: must name a model (a catalog name, path or hash)")

    loras = [_lora(entry, index, fail) for index, entry in enumerate(_list(data, "loras", fail))]
    lint = data.get("lint", {})
    if not isinstance(lint, dict):
        raise fail("lint", "lint: expected a table ([lint])")
    for key in lint:
        if key not in LINT_FIELDS:
            raise fail(f"lint.{key}", f"unknown key 'lint.{key}' (known: ignore)")
    ignore = lint.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(code, str) for code in ignore):
        raise fail("lint.ignore", "lint.ignore: expected a list of rule codes (strings)")
    extra = data.get("extra", {})
    if not isinstance(extra, dict):
        raise fail("extra", "extra: expected a table ([extra])")

    return Recipe(
        **values,
        loras=loras,
        lint_ignore=list(ignore),
        extra=dict(extra),
        source=source,
        lines=lines,
    )


def _checked(value: Any, key: str, kind: type, low: float | None, high: float | None, fail) -> Any:
    if value is None:
        return None
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise fail(key, f"{key}: expected {TYPE_WORDS[kind]}, got {_describe(value)}")
    if kind is float and not math.isfinite(value):
        raise fail(key, f"{key}: expected a finite number, got {value}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise fail(key, f"{key}: {value} is out of range ({_bound(low)}..{_bound(high)})")
    return value


def _list(data: dict[str, Any], key: str, fail) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise fail(key, f"{key}: expected an array of tables ([[{key}]])")
    return value


def _lora(entry: Any, index: int, fail) -> LoraSpec:
    where = f"loras[{index}]"
    if not isinstance(entry, dict):
        raise fail(where, f"{where}: expected a table with ref and weight")
    for key in entry:
        if key not in LORA_FIELDS:
            hint = LORA_KEY_HINTS.get(str(key).lower())
            suggestion = f"did you mean {hint!r}? " if hint else ""
            raise fail(
                f"{where}.{key}",
                f"unknown key {key!r} in {where} ({suggestion}known: {', '.join(LORA_FIELDS)})",
            )
    if "ref" not in entry:
        raise fail(where, f"{where}: missing required key 'ref'")

    values = {
        key: _checked(entry[key], f"{where}.{key}", *LORA_FIELDS[key], fail)
        for key in LORA_FIELDS
        if key in entry
    }
    if not values["ref"].strip():
        raise fail(f"{where}.ref", f"{where}.ref: must name a LoRA")
    return LoraSpec(**values)


def _line_of(lines: dict[str, int], key: str) -> int | None:
    """The line of ``key``, else of the entry around it ("loras[1].weight" -> "loras[1]")."""
    while key:
        if key in lines:
            return lines[key]
        if "." in key:
            key = key.rsplit(".", 1)[0]
        elif "[" in key:
            key = key.split("[", 1)[0]
        else:
            return None
    return None


def _lora_table(spec: LoraSpec) -> dict[str, Any]:
    table: dict[str, Any] = {"ref": spec.ref, "weight": spec.weight}
    if spec.unet_weight is not None:
        table["unet_weight"] = spec.unet_weight
    return table


def _describe(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
    return f"{names.get(type(value), type(value).__name__)} ({value!r})"


def _bound(value: float | None) -> str:
    return "" if value is None else str(value)
