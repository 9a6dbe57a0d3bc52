"""Read model files without loading weights. Contract used by every layer above:

- ``MODEL_EXTENSIONS``: file suffixes pantry treats as model files.
- ``is_diffusers_folder(path)``: a folder with ``model_index.json`` (one asset).
- ``read_header(path) -> Header``: dispatches on the file's content and suffix; raises
  ``pantry.errors.UnreadableFileError`` (or a subclass) with a one-line reason, nothing else.
"""

from __future__ import annotations

from pathlib import Path

from pantry.formats.header import Header, TensorInfo

MODEL_EXTENSIONS = frozenset({".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin"})

__all__ = ["MODEL_EXTENSIONS", "Header", "TensorInfo", "is_diffusers_folder", "read_header"]


def is_diffusers_folder(path: Path) -> bool:
    return path.is_dir() and (path / "model_index.json").is_file()


def read_header(path: str | Path) -> Header:
    raise NotImplementedError("being written")
