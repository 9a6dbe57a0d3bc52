"""Read a diffusers model folder as one asset, headers only.

Two shapes of folder are recognised:

- a **pipeline folder**: ``model_index.json`` names the components (``"unet":
  ["diffusers", "UNet2DConditionModel"]``); each component lives in a sub-folder with its
  config (``config.json``; ``scheduler_config.json``, ``tokenizer_config.json`` or
  ``preprocessor_config.json`` for the parts without weights) and, for models, weights;
- a **component folder**: a single model saved with ``save_pretrained`` (a diffusers VAE,
  ControlNet or UNet, a transformers text encoder): ``config.json`` plus weights at the top.

Both give ``Header(format="diffusers")``. ``components`` maps the component's folder name to
the header of its weights, with ``"."`` for a component folder (the folder itself, as in a
relative path); ``configs`` holds the parsed JSON, under ``"model_index"`` for the index and
the component name otherwise. Weights are the file diffusers would load by default: a
non-variant file before a variant (``*.fp16.safetensors``), safetensors before ``.bin``; a
sharded ``*.index.json`` reads every shard's header and merges them. ``file_size`` is the
total size of the files read. A broken or missing component becomes a line in ``warnings``;
the folder is still read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from pantry.errors import UnreadableFileError
from pantry.formats._files import os_error_reason
from pantry.formats.header import Header
from pantry.formats.pickle_reader import read_pickle_header
from pantry.formats.safetensors import read_safetensors_header

MODEL_INDEX = "model_index.json"
# The first of these found in a component folder is its config.
CONFIG_NAMES = (
    "config.json",
    "scheduler_config.json",
    "tokenizer_config.json",
    "preprocessor_config.json",
)
# Config files are small; a huge one is not a config.
MAX_CONFIG_BYTES = 16 * 1024 * 1024

# diffusers and transformers weight names: model.safetensors, diffusion_pytorch_model.fp16.bin,
# model.safetensors.index.json, diffusion_pytorch_model.safetensors.index.fp16.json
_WEIGHTS = re.compile(
    r"^(?:diffusion_pytorch_model|model|pytorch_model)"
    r"(?:\.(?P<variant>[\w-]+))?\.(?P<ext>safetensors|bin)$"
)
_SHARD_INDEX = re.compile(
    r"^(?:diffusion_pytorch_model|model|pytorch_model)\.(?P<ext>safetensors|bin)"
    r"\.index(?:\.(?P<variant>[\w-]+))?\.json$"
)


def is_diffusers_folder(path: Path) -> bool:
    """A pipeline folder: ``model_index.json`` at the top."""
    return path.is_dir() and (path / MODEL_INDEX).is_file()


def is_diffusers_component_folder(path: Path) -> bool:
    """A single saved model: ``config.json`` and weights named the diffusers way."""
    return path.is_dir() and (path / "config.json").is_file() and _choose_weights(path) is not None


def sharded_component_files(path: Path, names: Iterable[str] | None = None) -> frozenset[str]:
    """The shard files of a component folder whose weights are sharded (``config.json`` plus
    ``*.index.json``): such a folder is one asset, its shards mean nothing alone. Empty for
    any other folder. ``names``: the folder's file names when the caller already listed it."""
    names = set(names) if names is not None else {child.name for child in path.iterdir()}
    if "config.json" not in names or MODEL_INDEX in names:
        return frozenset()
    shards: set[str] = set()
    for name in names:
        if _SHARD_INDEX.match(name):
            try:
                weight_map = _read_json(path / name).get("weight_map")
            except UnreadableFileError:
                continue
            if isinstance(weight_map, dict):
                shards.update(v for v in weight_map.values() if isinstance(v, str))
    return frozenset(shards)


def read_diffusers_folder(path: str | Path) -> Header:
    """Read a pipeline or component folder; see the module docstring for the result."""
    path = Path(path)
    folder = Header(path=path, format="diffusers", file_size=0)
    if (path / MODEL_INDEX).is_file():
        index = _read_json(path / MODEL_INDEX)
        folder.configs["model_index"] = index
        folder.file_size += (path / MODEL_INDEX).stat().st_size
        for name in _component_names(index):
            _read_component(folder, name, path / name)
    elif (path / "config.json").is_file():
        _read_component(folder, ".", path)
    else:
        raise UnreadableFileError(path, "folder has neither model_index.json nor config.json")
    return folder


def _component_names(index: dict) -> list[str]:
    # "_class_name", "_diffusers_version" and options are not components; a component is
    # [library, class], and [null, null] marks one left out (e.g. no safety checker).
    return [
        name
        for name, value in index.items()
        if not name.startswith("_")
        and isinstance(value, list)
        and len(value) == 2
        and value[0] is not None
        and "/" not in name
        and name not in ("", ".", "..")
    ]


def _read_component(folder: Header, name: str, directory: Path) -> None:
    if not directory.is_dir():
        folder.warnings.append(f"{name}: listed in model_index.json but the folder is missing")
        return
    try:
        for config_name in CONFIG_NAMES:
            if (directory / config_name).is_file():
                folder.configs[name] = _read_json(directory / config_name)
                folder.file_size += (directory / config_name).stat().st_size
                break
        weights = _choose_weights(directory)
        if weights is not None:
            header = _read_weights(weights)
            folder.components[name] = header
            folder.file_size += header.file_size
            folder.warnings.extend(f"{name}: {warning}" for warning in header.warnings)
            _merge_globals(folder, header)
    except UnreadableFileError as error:
        folder.warnings.append(f"{name}: {error}")
    except OSError as error:
        folder.warnings.append(f"{name}: {os_error_reason(error)}")


def _choose_weights(directory: Path) -> Path | None:
    """The weights diffusers would load by default, or None (tokenizers, schedulers)."""
    candidates = []
    for child in directory.iterdir():
        match = _WEIGHTS.match(child.name) or _SHARD_INDEX.match(child.name)
        if match and child.is_file():
            variant = match["variant"]
            rank = (match["ext"] != "safetensors", variant is not None, variant != "fp16")
            candidates.append((rank, child.name, child))
    return min(candidates)[2] if candidates else None


def _read_weights(path: Path) -> Header:
    if path.name.endswith(".json"):
        return _read_sharded(path)
    if path.suffix == ".safetensors":
        return read_safetensors_header(path)
    return read_pickle_header(path)


def _read_sharded(index_path: Path) -> Header:
    """Merge the headers of every shard an ``*.index.json`` names into one header."""
    index = _read_json(index_path)
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise UnreadableFileError(index_path, "shard index has no weight_map of file names")
    fmt = "safetensors" if ".safetensors." in index_path.name else "pickle"
    merged = Header(path=index_path, format=fmt, file_size=index_path.stat().st_size)
    for shard_name in sorted(set(weight_map.values())):
        shard_path = index_path.parent / shard_name
        if Path(shard_name).name != shard_name:
            merged.warnings.append(f"shard {shard_name!r} is outside the folder; skipped")
            continue
        if not shard_path.is_file():
            merged.warnings.append(f"shard {shard_name} is missing")
            continue
        try:
            shard = _read_weights(shard_path)
        except UnreadableFileError as error:
            merged.warnings.append(str(error))
            continue
        merged.file_size += shard.file_size
        merged.tensors.update(shard.tensors)
        merged.metadata.update(shard.metadata)
        _merge_globals(merged, shard)
    missing = sum(1 for tensor in weight_map if tensor not in merged.tensors)
    if missing:
        merged.warnings.append(f"{missing} tensors named in {index_path.name} were not found")
    return merged


def _merge_globals(into: Header, header: Header) -> None:
    for name in header.pickle_globals:
        if name not in into.pickle_globals:
            into.pickle_globals.append(name)
    for name in header.unsafe_globals:
        if name not in into.unsafe_globals:
            into.unsafe_globals.append(name)


def _read_json(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise UnreadableFileError(path, os_error_reason(error)) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise UnreadableFileError(path, "JSON file too large to be a config")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnreadableFileError(path, f"not valid JSON: {reason}") from None
    if not isinstance(doc, dict):
        raise UnreadableFileError(path, "JSON is not an object")
    return doc
