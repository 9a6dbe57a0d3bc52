"""Read and validate a safetensors header without touching the tensor data.

Layout: an 8-byte little-endian unsigned length N, then N bytes of UTF-8 JSON (an object
mapping tensor names to ``{"dtype", "shape", "data_offsets"}`` plus an optional
``"__metadata__"`` of string to string), then the data region.

Hand-written rather than calling ``safetensors.safe_open`` because pantry needs: typed,
one-line errors naming the fault (the library raises bare exceptions); bounded reads of
exactly 8 + N bytes (the library maps the whole file, which on a folder of multi-GB files
on a network drive is needlessly costly); and no dependency on the library at runtime.

The checks follow the library's own (``safetensors/src/tensor.rs``, ``read_metadata`` and
``Metadata::validate``) so that pantry rejects exactly the files every loader rejects:
the data region must be covered by the tensors exactly, in order, with no gaps, overlaps
or trailing bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pantry.errors import HeaderError
from pantry.formats.header import DTYPE_SIZES, Header, TensorInfo

# The library's limit; a larger header is refused by every loader.
MAX_HEADER_LENGTH = 100_000_000

_DTYPE_BITS: dict[str, int] = {name: int(size * 8) for name, size in DTYPE_SIZES.items()}


def read_safetensors_header(path: str | Path) -> Header:
    """Read and validate the header of one ``.safetensors`` file.

    Raises ``HeaderError`` (one-line reason) on any violation of the format, and
    ``UnreadableFileError`` when the file cannot be opened at all.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            file_size = os.fstat(f.fileno()).st_size
            prefix = f.read(8)
            if len(prefix) < 8:
                raise HeaderError(path, f"too short for a safetensors file ({file_size} bytes)")
            length = int.from_bytes(prefix, "little")
            if length > MAX_HEADER_LENGTH:
                raise HeaderError(
                    path, f"header length {length} exceeds the {MAX_HEADER_LENGTH}-byte limit"
                )
            if 8 + length > file_size:
                raise HeaderError(
                    path,
                    f"header length {length} runs past the end of the file "
                    f"({file_size} bytes): truncated or not safetensors",
                )
            raw = f.read(length)
    except IsADirectoryError:
        raise HeaderError(path, "is a directory, not a safetensors file") from None
    except OSError as error:
        raise HeaderError(path, f"cannot read: {error.strerror or error}") from None
    if len(raw) < length:
        raise HeaderError(path, "file shrank while being read")
    tensors, metadata = _parse_header(path, raw, file_size - 8 - length)
    return Header(
        path=path,
        format="safetensors",
        file_size=file_size,
        tensors=tensors,
        metadata=metadata,
        header_length=length,
    )


def _parse_header(
    path: Path, raw: bytes, data_size: int
) -> tuple[dict[str, TensorInfo], dict[str, str]]:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise HeaderError(path, f"header is not UTF-8 (byte {error.start})") from None
    except (ValueError, RecursionError) as error:
        raise HeaderError(path, f"header is not valid JSON: {_first_line(error)}") from None
    if type(doc) is not dict:
        raise HeaderError(path, f"header is a JSON {type(doc).__name__}, not an object")

    metadata = doc.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    elif type(metadata) is not dict or not all(type(v) is str for v in metadata.values()):
        raise HeaderError(path, "__metadata__ must map strings to strings")

    # One pass builds TensorInfo and the (begin, end, name) spans; the spans are then sorted
    # once and walked to prove they tile the data region exactly.
    tensors: dict[str, TensorInfo] = {}
    spans: list[tuple[int, int, str]] = []
    dtype_bits = _DTYPE_BITS
    for name, entry in doc.items():
        try:
            dtype = entry["dtype"]
            shape = entry["shape"]
            begin, end = entry["data_offsets"]
            bits = dtype_bits[dtype]
        except (TypeError, KeyError, ValueError):
            raise HeaderError(path, _describe_bad_entry(name, entry)) from None
        if type(shape) is not list:
            raise HeaderError(path, f"tensor {_short(name)}: shape must be a list of integers")
        numel = 1
        for dim in shape:
            if type(dim) is not int or dim < 0:
                raise HeaderError(path, f"tensor {_short(name)}: invalid dimension {dim!r} in shape")
            numel *= dim
        if type(begin) is not int or type(end) is not int or not 0 <= begin <= end:
            raise HeaderError(path, f"tensor {_short(name)}: invalid data_offsets [{begin}, {end}]")
        nbits = numel * bits
        if nbits % 8:
            raise HeaderError(path, f"tensor {_short(name)}: {dtype} data does not end on a byte")
        if end - begin != nbits // 8:
            raise HeaderError(
                path,
                f"tensor {_short(name)}: data_offsets span {end - begin} bytes but "
                f"{dtype}{shape} needs {nbits // 8}",
            )
        tensors[name] = TensorInfo(dtype, tuple(shape))
        spans.append((begin, end, name))

    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin != position:
            fault = "overlaps the previous tensor" if begin < position else "leaves a gap before it"
            raise HeaderError(path, f"tensor {_short(name)}: data_offsets {fault} (at byte {begin})")
        position = end
    if position > data_size:
        raise HeaderError(
            path,
            f"tensor data needs {position} bytes but the file holds {data_size}: truncated",
        )
    if position < data_size:
        raise HeaderError(
            path, f"{data_size - position} bytes after the last tensor are not described"
        )
    return tensors, metadata


def _describe_bad_entry(name: str, entry: object) -> str:
    if type(entry) is not dict:
        return f"tensor {_short(name)}: entry is not an object"
    for key in ("dtype", "shape", "data_offsets"):
        if key not in entry:
            return f"tensor {_short(name)}: missing {key!r}"
    offsets = entry["data_offsets"]
    if type(offsets) is not list or len(offsets) != 2:
        return f"tensor {_short(name)}: data_offsets must be [begin, end]"
    return f"tensor {_short(name)}: unknown dtype {entry['dtype']!r}"


def _short(name: str) -> str:
    """A tensor name for a message: quoted, and cut short if a hostile header made it huge."""
    return repr(name if len(name) <= 80 else name[:77] + "...")


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
