"""Read model files without loading weights. Contract used by every layer above:

- ``MODEL_EXTENSIONS``: file suffixes pantry treats as model files.
- ``is_diffusers_folder(path)``: a folder with ``model_index.json`` (one asset).
- ``is_diffusers_component_folder(path)``: a folder holding one ``save_pretrained`` model.
- ``sharded_component_files(path)``: the shards of a sharded component folder (one asset).
- ``read_header(path) -> Header``: dispatches on the file's content and suffix; raises
  ``pantry.errors.UnreadableFileError`` (or a subclass) with a one-line reason, nothing else.

Content decides before the suffix: a pickle renamed ``.safetensors`` is read (and flagged) as
the pickle it is, never trusted for its name.
"""

from __future__ import annotations

import errno
import stat
from pathlib import Path

from pantry.errors import UnreadableFileError
from pantry.formats._files import os_error_reason
from pantry.formats.diffusers_folder import (
    is_diffusers_component_folder,
    is_diffusers_folder,
    read_diffusers_folder,
    sharded_component_files,
)
from pantry.formats.gguf import read_gguf_header
from pantry.formats.header import Header, TensorInfo
from pantry.formats.pickle_reader import read_pickle_header
from pantry.formats.safetensors import read_safetensors_header

MODEL_EXTENSIONS = frozenset({".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf"})
SAFETENSORS_EXTENSIONS = frozenset({".safetensors", ".sft"})
PICKLE_EXTENSIONS = frozenset({".ckpt", ".pt", ".pth", ".bin"})
GGUF_EXTENSIONS = frozenset({".gguf"})
# Enough of the start of a file to sniff its format and to quote a text file's first line.
HEAD_BYTES = 64
LFS_POINTER = b"version https://git-lfs.github.com/spec/"

__all__ = [
    "MODEL_EXTENSIONS",
    "Header",
    "TensorInfo",
    "is_diffusers_component_folder",
    "is_diffusers_folder",
    "read_header",
    "sharded_component_files",
]


def read_header(path: str | Path) -> Header:
    """Read what a model file or diffusers folder says about itself, never its weights."""
    path = Path(path)
    try:
        info = path.stat()
    except OSError as error:
        if error.errno == errno.ENOENT and path.is_symlink():
            raise UnreadableFileError(path, "broken symbolic link") from None
        raise UnreadableFileError(path, os_error_reason(error)) from None
    if stat.S_ISDIR(info.st_mode):
        if is_diffusers_folder(path) or is_diffusers_component_folder(path):
            return read_diffusers_folder(path)
        raise UnreadableFileError(path, "is a directory, not a model file or diffusers folder")
    if not stat.S_ISREG(info.st_mode):
        # Opening a FIFO or a device would block or read forever.
        raise UnreadableFileError(path, "not a regular file")
    if info.st_size == 0:
        raise UnreadableFileError(path, "empty file (0 bytes)")
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as error:
        raise UnreadableFileError(path, os_error_reason(error)) from None

    suffix = path.suffix.lower()
    sniffed = _sniff(head, info.st_size)
    kind = sniffed or _kind_from_suffix(suffix)
    if kind == "safetensors":
        try:
            header = read_safetensors_header(path)
        except UnreadableFileError as error:
            # protocol 0/1 pickles have no magic byte: a disguised pickle must still be
            # walked so that its imports are reported, not hidden behind "bad header".
            header = _pickle_in_disguise(path)
            if header is None:
                _raise_if_text(path, head, error)
                raise
            kind = "pickle"
    elif kind == "pickle":
        try:
            header = read_pickle_header(path)
        except UnreadableFileError as error:
            if sniffed is None:
                _raise_if_text(path, head, error)
            raise
    elif kind == "gguf":
        header = read_gguf_header(path)
    else:
        raise UnreadableFileError(
            path, "not a model file pantry knows (neither safetensors nor a torch checkpoint)"
        )
    if kind == "pickle" and suffix in SAFETENSORS_EXTENSIONS:
        header.warnings.append(f"named {suffix} but is a pickle checkpoint")
    return header


def _pickle_in_disguise(path: Path) -> Header | None:
    try:
        header = read_pickle_header(path)
    except UnreadableFileError:
        return None
    return header if header.tensors or header.pickle_globals else None


def _raise_if_text(path: Path, head: bytes, error: UnreadableFileError) -> None:
    """Say what a failed download really left behind: a Git LFS pointer (a clone without
    LFS), or a text file such as an HTML or JSON error page saved under the model's name."""
    if head.startswith(LFS_POINTER):
        raise UnreadableFileError(
            path, "a Git LFS pointer, not the model itself (`git lfs pull` fetches the file)"
        ) from None
    text = head.decode("utf-8", "replace").rstrip("\ufffd")  # a cut multi-byte character
    if text.strip() and all(c.isprintable() or c in "\r\n\t" for c in text):
        first = text.strip().splitlines()[0][:40]
        raise UnreadableFileError(
            path, f"{error.reason}; the file is text, starting {first!r}: a failed download?"
        ) from None


def _sniff(head: bytes, file_size: int) -> str | None:
    if head[:4] == b"GGUF":
        return "gguf"
    # safetensors: u64 header length that fits the file, then the JSON object's "{".
    if len(head) >= 9 and head[8:9] == b"{" and 8 + int.from_bytes(head[:8], "little") <= file_size:
        return "safetensors"
    if head[:2] == b"PK":
        return "pickle"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    return None


def _kind_from_suffix(suffix: str) -> str | None:
    if suffix in SAFETENSORS_EXTENSIONS:
        return "safetensors"
    if suffix in PICKLE_EXTENSIONS:
        return "pickle"
    if suffix in GGUF_EXTENSIONS:
        return "gguf"  # so a damaged .gguf is reported by the GGUF reader (e.g. "bad magic")
    return None
