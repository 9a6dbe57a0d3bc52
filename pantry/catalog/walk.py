"""Walking model folders and reading what one file says, without touching the database.

``walk`` follows symlinks but never loops (it remembers the (device, inode) of every folder it
entered) and treats a diffusers folder as one asset it does not descend into. ``read_entry``
reads one file's header (or a folder's configs), identifies it, and fingerprints it; it never
raises for a bad file: an unreadable file comes back with its reason.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any, NamedTuple

from pantry import formats, identify
from pantry.catalog.jsontext import identity_json
from pantry.catalog.layouts import folder_hint
from pantry.catalog.overrides import effective_columns, search_text
from pantry.errors import UnreadableFileError
from pantry.identify.identity import Identity

FINGERPRINT_SAMPLE = 16 * 1024
DIFFUSERS_INDEX = "model_index.json"
COMPONENT_CONFIG = "config.json"


class FileStat(NamedTuple):
    # A NamedTuple, not a dataclass: a rescan builds one per file, 50,000 of them in a blink.
    size: int
    mtime_ns: int
    device: int
    inode: int

    @property
    def key(self) -> tuple[int, int, int]:
        """What "unchanged" compares: a file with the same key is not opened again."""
        return (self.size, self.mtime_ns, self.inode)


@dataclass(slots=True)
class Found:
    path: str
    stat: FileStat
    is_folder: bool = False


@dataclass
class ReadResult:
    """Everything the catalog stores about one file after reading it.

    Small and picklable: a scan may read files in worker processes, so the identity travels
    as its JSON text plus the few columns the catalog queries.
    """

    found: Found
    format: str
    identity_json: str  # Identity.to_json() as RawJSON text
    columns: dict[str, Any]  # effective_columns(identity), before user overrides
    search: str  # search_text(name, identity)
    header_metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    fingerprint: str | None = None
    hint: str | None = None
    error: str | None = None  # set when the file is unreadable

    @property
    def status(self) -> str:
        return "unreadable" if self.error else "ok"


@dataclass
class Listing:
    """What a walk found: ``state`` maps every path to ``(size, mtime_ns, inode, device)``.

    Plain tuples, so that a rescan of 50,000 files compares them with the catalog's as a
    set operation in C, and builds a :class:`Found` only for the few paths it must read.
    """

    state: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    folders: dict[str, Found] = field(default_factory=dict)  # diffusers folders

    def __len__(self) -> int:
        return len(self.state)

    def __contains__(self, path: str) -> bool:
        return path in self.state

    def found(self, path: str) -> Found:
        if path in self.folders:
            return self.folders[path]
        size, mtime_ns, inode, device = self.state[path]
        return Found(path, FileStat(size, mtime_ns, device, inode))

    def add_folder(self, found: Found) -> None:
        st = found.stat
        self.folders[found.path] = found
        self.state[found.path] = (st.size, st.mtime_ns, st.inode, st.device)


def walk(roots: list[str], on_error: Callable[[str], None]) -> Listing:
    """Every model file and diffusers folder under ``roots`` (a root may itself be a file)."""
    listing = Listing()
    seen_dirs: set[tuple[int, int]] = set()
    for root in roots:
        try:
            st = os.stat(root)
        except OSError as error:
            on_error(f"{root}: {error.strerror or error}")
            continue
        if not os.path.isdir(root):
            if _is_model_file(root):
                listing.state[root] = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        elif formats.is_diffusers_folder(Path(root)):
            listing.add_folder(_folder_found(root, st))
        else:
            _walk_dir(root, st, seen_dirs, on_error, listing)
    return listing


def stat_path(path: str) -> Found:
    """A Found for one path (file or diffusers folder); raises OSError when it is gone."""
    st = os.stat(path)
    if os.path.isdir(path):
        return _folder_found(path, st)
    return Found(path, _file_stat(st))


def read_entry(found: Found, hashes: dict[str, str] | None = None) -> ReadResult:
    """Read and identify one file; ``hashes`` (when known) let identify match known files."""
    path = Path(found.path)
    hint = folder_hint(path)
    hint_text = f"{hint[0]}:{hint[1]}" if hint else None  # e.g. "comfyui:lora"
    try:
        header = formats.read_header(path)
        identity = identify.identify(header, hashes)
    except UnreadableFileError as error:
        return _unreadable(found, error.reason, hint_text)
    except OSError as error:
        return _unreadable(found, error.strerror or str(error), hint_text)
    except Exception as error:  # a reader bug must not stop a scan of thousands of files
        return _unreadable(found, f"internal error: {type(error).__name__}: {error}", hint_text)
    if hint:
        ui, kind, folder = hint
        identity.add(
            "kind", f"in a folder named {folder!r}, where {ui} keeps {kind} files", "folder"
        )
    return ReadResult(
        found=found,
        format=header.format,
        **_identity_fields(found, identity),
        header_metadata=dict(header.metadata),
        warnings=list(header.warnings) + list(identity.warnings),
        fingerprint=_fingerprint(found),
        hint=hint_text,
    )


def guess_format(path: str, is_folder: bool) -> str:
    if is_folder:
        return "diffusers"
    return "safetensors" if path.lower().endswith((".safetensors", ".sft")) else "pickle"


def asset_name(path: str, is_folder: bool) -> str:
    p = Path(path)
    return p.name if is_folder else p.stem


def _walk_dir(
    root: str, root_stat: os.stat_result, seen: set[tuple[int, int]], on_error, out: Listing
) -> None:
    files = out.state
    stack = [(root, root_stat)]
    while stack:
        folder, st = stack.pop()
        if (st.st_dev, st.st_ino) in seen:
            continue  # a symlink loop, or a folder reached twice through links
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = list(os.scandir(folder))
        except OSError as error:
            on_error(f"{folder}: {error.strerror or error}")
            continue
        shards = formats.sharded_component_files(Path(folder), (e.name for e in entries))
        if shards:  # a sharded save_pretrained folder is one asset; its shards are not
            out.add_folder(_folder_found(folder, st))
        for entry in entries:
            if entry.name in shards:
                continue
            try:
                if entry.is_dir():
                    sub_stat = entry.stat()
                    if os.path.isfile(os.path.join(entry.path, DIFFUSERS_INDEX)):
                        out.add_folder(_folder_found(entry.path, sub_stat))
                    else:
                        stack.append((entry.path, sub_stat))
                elif _is_model_file(entry.name):
                    st = entry.stat()  # follows links; one call tells "regular file" too
                    if S_ISREG(st.st_mode):
                        files[entry.path] = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
            except OSError as error:  # broken symlink, permission denied, vanished meanwhile
                dangling = isinstance(error, FileNotFoundError) and entry.is_symlink()
                reason = "broken symbolic link" if dangling else error.strerror or error
                on_error(f"{entry.path}: {reason}")


_MODEL_SUFFIXES = tuple(formats.MODEL_EXTENSIONS)


def _is_model_file(name: str) -> bool:
    return name.endswith(_MODEL_SUFFIXES) or name.lower().endswith(_MODEL_SUFFIXES)


def _file_stat(st: os.stat_result) -> FileStat:
    return FileStat(st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)


def _folder_found(path: str, st: os.stat_result) -> Found:
    # A diffusers folder changes when any file in it changes: total size and newest mtime.
    size, newest = 0, st.st_mtime_ns
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                fst = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            size += fst.st_size
            newest = max(newest, fst.st_mtime_ns)
    return Found(path, FileStat(size, newest, st.st_dev, st.st_ino), is_folder=True)


def _unreadable(found: Found, reason: str, hint: str | None) -> ReadResult:
    identity = Identity(reason=reason, errors=[reason])
    return ReadResult(
        found=found,
        format=guess_format(found.path, found.is_folder),
        **_identity_fields(found, identity),
        fingerprint=_fingerprint(found),
        hint=hint,
        error=reason,
    )


def _identity_fields(found: Found, identity: Identity) -> dict[str, Any]:
    return {
        "identity_json": identity_json(identity),
        "columns": effective_columns(identity),
        "search": search_text(asset_name(found.path, found.is_folder), identity),
    }


def _fingerprint(found: Found) -> str | None:
    """SHA-256 of three 16 KiB samples (start, middle, end) and the size.

    The start holds the header; the middle and end hold weights, so two fine-tunes with the
    same tensor layout (identical headers and sizes) still differ.
    """
    digest = hashlib.sha256(str(found.stat.size).encode())
    try:
        if found.is_folder:
            index = Path(found.path, DIFFUSERS_INDEX)
            if not index.is_file():
                index = Path(found.path, COMPONENT_CONFIG)  # a sharded component folder
            digest.update(index.read_bytes())
            for dirpath, _dirs, files in sorted(os.walk(found.path)):
                rel = os.path.relpath(dirpath, found.path)
                digest.update("\n".join(f"{rel}/{n}" for n in sorted(files)).encode())
            return digest.hexdigest()
        size = found.stat.size
        with open(found.path, "rb") as f:
            for offset in sorted(
                {0, max(0, size // 2 - FINGERPRINT_SAMPLE // 2), max(0, size - FINGERPRINT_SAMPLE)}
            ):
                f.seek(offset)
                digest.update(f.read(FINGERPRINT_SAMPLE))
    except OSError:
        return None
    return digest.hexdigest()
