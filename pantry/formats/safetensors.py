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

from pantry.errors import HeaderError, UnreadableFileError
from pantry.formats._files import os_error_reason
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
    except OSError as error:
        raise UnreadableFileError(path, os_error_reason(error)) from None
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
        # parse_float=str: a float where an integer belongs can then never pass as one.
        doc = json.loads(raw.decode("utf-8"), parse_float=str)
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

    tensors, in_order_end = _read_tensor_entries(path, doc)
    if in_order_end is None:
        spans = [(*entry["data_offsets"], name) for name, entry in doc.items()]
        _check_data_region(path, spans, data_size)
    else:
        _check_data_end(path, in_order_end, data_size)
    return tensors, metadata


def _read_tensor_entries(path: Path, doc: dict) -> tuple[dict[str, TensorInfo], int | None]:
    """Every entry's TensorInfo, checked against its offsets; and where the data ends when the
    entries already tile the data region in the order listed (None when they do not).

    Hot path (thousands of entries per file): models repeat a few hundred (dtype, shape)
    pairs, so each pair is validated and its immutable TensorInfo built once; later entries
    only look it up. Writers list tensors in offset order, so tiling is checked on the way;
    only other files need the sort in ``_check_data_region``.
    """
    # Known leniency, for speed: JSON true/false equal 1/0 in Python, so a boolean dimension or
    # offset slips through when an equal integer shape was seen before (the first sighting is
    # checked strictly). The values read are still the right integers.
    tensors: dict[str, TensorInfo] = {}
    known: dict[tuple, tuple[TensorInfo, int]] = {}
    position = 0  # end of the previous entry
    in_order = True
    for name, entry in doc.items():
        try:
            info, nbytes = known[entry["dtype"], tuple(entry["shape"])]
            begin, end = entry["data_offsets"]
            size = end - begin
        except (KeyError, TypeError, ValueError):
            info, nbytes = _check_entry(path, name, entry)
            known[info.dtype, info.shape] = info, nbytes
            begin, end = entry["data_offsets"]
            size = end - begin
        if size != nbytes:
            raise HeaderError(
                path,
                f"tensor {_short(name)}: data_offsets span {size} bytes but "
                f"{info.dtype}{list(info.shape)} needs {nbytes}",
            )
        # Each entry starting where the previous one ended (sizes are >= 0 here) is a
        # sorted tiling from 0: what _check_data_region would find after sorting.
        if begin != position:
            in_order = False
        position = end
        tensors[name] = info
    return tensors, position if in_order else None


def _check_data_region(path: Path, spans: list[tuple[int, int, str]], data_size: int) -> None:
    """The tensors must tile the data region exactly: in offset order, no gaps or overlaps."""
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin != position:
            if begin < 0:
                fault = "starts before the data region"
            elif begin < position:
                fault = "overlaps the previous tensor"
            else:
                fault = "leaves a gap before it"
            raise HeaderError(
                path, f"tensor {_short(name)}: data_offsets {fault} (at byte {begin})"
            )
        position = end
    _check_data_end(path, position, data_size)


def _check_data_end(path: Path, position: int, data_size: int) -> None:
    """The last tensor must end exactly where the file does."""
    if position > data_size:
        raise HeaderError(
            path, f"tensor data needs {position} bytes but the file holds {data_size}: truncated"
        )
    if position < data_size:
        raise HeaderError(
            path, f"{data_size - position} bytes after the last tensor are not described"
        )


def _check_entry(path: Path, name: str, entry: object) -> tuple[TensorInfo, int]:
    """Validate one entry field by field; return its TensorInfo and byte count."""
    if type(entry) is not dict:
        raise HeaderError(path, f"tensor {_short(name)}: entry is not an object")
    for key in ("dtype", "shape", "data_offsets"):
        if key not in entry:
            raise HeaderError(path, f"tensor {_short(name)}: missing {key!r}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if type(dtype) is not str or dtype not in _DTYPE_BITS:
        raise HeaderError(path, f"tensor {_short(name)}: unknown dtype {dtype!r}")
    if type(shape) is not list:
        raise HeaderError(path, f"tensor {_short(name)}: shape must be a list of integers")
    numel = 1
    for dim in shape:
        if type(dim) is not int or dim < 0:
            raise HeaderError(path, f"tensor {_short(name)}: invalid dimension {dim!r} in shape")
        numel *= dim
    if (
        type(offsets) is not list
        or len(offsets) != 2
        or not all(type(offset) is int for offset in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        raise HeaderError(path, f"tensor {_short(name)}: invalid data_offsets {offsets!r}")
    nbits = numel * _DTYPE_BITS[dtype]
    if nbits % 8:
        raise HeaderError(path, f"tensor {_short(name)}: {dtype} data does not end on a byte")
    return TensorInfo(dtype, tuple(shape)), nbits // 8


def _short(name: str) -> str:
    """A tensor name for a message: quoted, and cut short if a hostile header made it huge."""
    return repr(name if len(name) <= 80 else name[:77] + "...")


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
