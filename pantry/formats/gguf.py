"""Read and validate a GGUF header (llama.cpp, stable-diffusion.cpp, ComfyUI-GGUF) without
touching the tensor data.

Layout (little-endian; versions 2 and 3 share it): ``GGUF``, u32 version, u64 tensor count,
u64 key-value count; the key-value pairs (string key, u32 value type, value); one info per
tensor (string name, u32 n_dims, u64 dims fastest-varying first, u32 GGML type, u64 offset
into the data section); zero padding to ``general.alignment`` (default 32); the tensor data.
A string is a u64 byte count and UTF-8 bytes; an array is a u32 element type, a u64 element
count and the elements (arrays may nest).

Hand-written rather than ``gguf.GGUFReader`` (llama.cpp's Python package) because that reader
memory-maps the whole file, builds numpy views of every array and tensor, and trusts the
lengths it reads; pantry needs bounded reads of the header alone, one-line errors, and no
numpy at runtime.

The checks follow ggml's loader (``src/gguf.cpp``): known version, types and value types;
no empty or duplicate keys, no duplicate tensor names; a power-of-two ``general.alignment``
of type uint32; rows of a quantised tensor made of whole blocks. Two leniencies match the
Python reader ComfyUI-GGUF loads with: up to ``MAX_DIMS`` dimensions (its 5-D fix tool writes
Wan/HunyuanVideo conv weights with five), and tensor data that need not tile the data section
exactly, as long as every tensor is aligned, inside the file and overlaps no other.

What the returned Header holds:

- ``tensors``: GGML type names (``"Q4_K"``, ``"F16"``) and shapes in PyTorch order (GGUF
  stores dims fastest-varying first). ComfyUI-GGUF stores some SD1/SDXL tensors flattened to
  rows of 256 and keeps the real shape in ``comfy.gguf.orig_shape.<name>``: that shape is used.
- names as the file has them, except llama.cpp's T5 encoder names (``enc.blk.0.attn_q.weight``),
  which are given their Hugging Face names (``encoder.block.0.layer.0.SelfAttention.q.weight``)
  the way ComfyUI-GGUF loads them, so that every layer above sees one T5 vocabulary.
- ``metadata``: every key-value pair as text under its GGUF key; short arrays as JSON lists,
  long ones (tokenizer vocabularies) summarised as ``<array of N type>``.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from pathlib import Path
from typing import BinaryIO

from pantry.errors import HeaderError, UnreadableFileError
from pantry.formats._files import os_error_reason
from pantry.formats.header import DTYPE_SIZES, GGML_QUANT_BLOCKS, Header, TensorInfo

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
# The spec's limit for keys; tensor names get the same bound (ggml's own is 63 bytes, but
# ComfyUI-GGUF writes names up to 127).
MAX_NAME_LENGTH = 65_535
# A string value kept in metadata (chat templates are kilobytes); longer is refused, not read.
MAX_STRING_LENGTH = 16 * 1024 * 1024
MAX_DIMS = 8
MAX_ARRAY_DEPTH = 4
# Arrays up to this many elements are copied into metadata as JSON; longer ones are skipped.
MAX_LISTED_ARRAY = 16
ORIG_SHAPE_PREFIX = "comfy.gguf.orig_shape."

# GGML tensor type ids (ggml.h ``enum ggml_type``); missing ids were removed from the format.
GGML_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    6: "Q5_0",
    7: "Q5_1",
    8: "Q8_0",
    9: "Q8_1",
    10: "Q2_K",
    11: "Q3_K",
    12: "Q4_K",
    13: "Q5_K",
    14: "Q6_K",
    15: "Q8_K",
    16: "IQ2_XXS",
    17: "IQ2_XS",
    18: "IQ3_XXS",
    19: "IQ1_S",
    20: "IQ4_NL",
    21: "IQ3_S",
    22: "IQ2_S",
    23: "IQ4_XS",
    24: "I8",
    25: "I16",
    26: "I32",
    27: "I64",
    28: "F64",
    29: "IQ1_M",
    30: "BF16",
    34: "TQ1_0",
    35: "TQ2_0",
    39: "MXFP4",
    40: "NVFP4",
    41: "Q1_0",
    42: "Q2_0",
}

# Metadata value types (``enum gguf_metadata_value_type``): id -> (name, little-endian layout).
VALUE_TYPES: dict[int, tuple[str, str]] = {
    0: ("uint8", "<B"),
    1: ("int8", "<b"),
    2: ("uint16", "<H"),
    3: ("int16", "<h"),
    4: ("uint32", "<I"),
    5: ("int32", "<i"),
    6: ("float32", "<f"),
    7: ("bool", "<B"),
    10: ("uint64", "<Q"),
    11: ("int64", "<q"),
    12: ("float64", "<d"),
}
STRING_TYPE, ARRAY_TYPE = 8, 9
_BOOL_TYPE, _FLOAT32_TYPE, _UINT32_TYPE = 7, 6, 4
_INTEGER_TYPES = frozenset({0, 1, 2, 3, 4, 5, 10, 11})

# llama.cpp's T5 encoder tensor names -> Hugging Face T5EncoderModel names.
T5_ARCHITECTURES = frozenset({"t5", "t5encoder"})
T5_TOP_LEVEL_NAMES = {
    "token_embd.weight": "shared.weight",
    "enc.output_norm.weight": "encoder.final_layer_norm.weight",
}
T5_BLOCK_PARTS = {
    "attn_q": "layer.0.SelfAttention.q",
    "attn_k": "layer.0.SelfAttention.k",
    "attn_v": "layer.0.SelfAttention.v",
    "attn_o": "layer.0.SelfAttention.o",
    "attn_rel_b": "layer.0.SelfAttention.relative_attention_bias",
    "attn_norm": "layer.0.layer_norm",
    "ffn_gate": "layer.1.DenseReluDense.wi_0",
    "ffn_up": "layer.1.DenseReluDense.wi_1",
    "ffn_down": "layer.1.DenseReluDense.wo",
    "ffn_norm": "layer.1.layer_norm",
}
_T5_BLOCK_NAME = re.compile(r"enc\.blk\.(\d+)\.([a-z_]+)\.(weight|bias)")

# (elements per block, bytes per block) for every GGML type name.
_BLOCKS: dict[str, tuple[int, int]] = {
    name: GGML_QUANT_BLOCKS.get(name) or (1, int(DTYPE_SIZES[name])) for name in GGML_TYPES.values()
}
_STRUCTS = {vtype: struct.Struct(layout) for vtype, (_, layout) in VALUE_TYPES.items()}
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
# The smallest possible metadata entry (empty key, 1-byte value) and tensor info (empty name,
# no dims): counts that could not fit in the file are refused before any loop runs.
_MIN_ENTRY_BYTES = 8 + 4 + 1
_MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8
# Bytes read from disk at a time: the header is parsed from memory, so at most one chunk past
# its end is read (and never looked at).
_CHUNK = 256 * 1024


def read_gguf_header(path: str | Path) -> Header:
    """Read and validate the header of one ``.gguf`` file.

    Raises ``HeaderError`` (one-line reason) on any violation of the format, and
    ``UnreadableFileError`` when the file cannot be opened at all.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            file_size = os.fstat(f.fileno()).st_size
            return _GgufParser(_Cursor(f, path, file_size)).parse()
    except OSError as error:
        raise UnreadableFileError(path, os_error_reason(error)) from None


def t5_hf_name(name: str) -> str | None:
    """The Hugging Face T5 name of a llama.cpp T5 encoder tensor name (None if not one)."""
    top = T5_TOP_LEVEL_NAMES.get(name)
    if top is not None:
        return top
    match = _T5_BLOCK_NAME.fullmatch(name)
    if match is None or match[2] not in T5_BLOCK_PARTS:
        return None
    return f"encoder.block.{match[1]}.{T5_BLOCK_PARTS[match[2]]}.{match[3]}"


class _GgufParser:
    """One pass over the header: metadata, tensor infos, then the data section's bounds."""

    def __init__(self, cursor: _Cursor):
        self.cursor = cursor
        self.path = cursor.path
        self.metadata: dict[str, str] = {}
        self.orig_shapes: dict[str, tuple[int, ...]] = {}
        self.alignment = DEFAULT_ALIGNMENT
        self._keys: set[str] = set()
        self._tensor_names: set[str] = set()

    def parse(self) -> Header:
        cursor = self.cursor
        magic = cursor.take(4) if cursor.file_size >= 4 else b""
        if magic and magic != GGUF_MAGIC:
            raise HeaderError(self.path, f"not a GGUF file: starts with {magic!r}, not b'GGUF'")
        if cursor.file_size < 4 + 4 + 8 + 8:
            raise HeaderError(self.path, f"too short for a GGUF file ({cursor.file_size} bytes)")
        self._check_version(cursor.unpack(_U32))
        tensor_count = cursor.unpack(_U64)
        entry_count = cursor.unpack(_U64)
        needed = tensor_count * _MIN_TENSOR_INFO_BYTES + entry_count * _MIN_ENTRY_BYTES
        if needed > cursor.remaining:
            raise HeaderError(
                self.path,
                f"claims {tensor_count} tensors and {entry_count} metadata entries, more than "
                f"its {cursor.file_size} bytes can hold: truncated or corrupt",
            )
        for index in range(entry_count):
            cursor.section = f"metadata entry {index + 1} of {entry_count}"
            self._read_entry()
        infos = [self._read_tensor_info(i, tensor_count) for i in range(tensor_count)]
        data_start = cursor.position
        if infos:
            data_start = -(-data_start // self.alignment) * self.alignment
        self._check_data_section(infos, data_start)
        return Header(
            path=self.path,
            format="gguf",
            file_size=cursor.file_size,
            tensors=self._tensors(infos),
            metadata=self.metadata,
        )

    def _check_version(self, version: int) -> None:
        if version in SUPPORTED_VERSIONS:
            return
        if version and not version & 0xFFFF:
            reason = "big-endian GGUF files are not supported"
        elif version == 1:
            reason = "GGUF version 1 is obsolete (no current loader reads it)"
        else:
            reason = f"unsupported GGUF version {version} (pantry reads versions 2 and 3)"
        raise HeaderError(self.path, reason)

    # --- metadata --------------------------------------------------------------------------

    def _read_entry(self) -> None:
        cursor = self.cursor
        key = cursor.name("metadata key")
        if not key:
            raise HeaderError(self.path, f"{cursor.section} has an empty key")
        if key in self._keys:
            raise HeaderError(self.path, f"duplicate metadata key {_short(key)}")
        self._keys.add(key)
        cursor.section = f"metadata value {_short(key)}"
        vtype = cursor.unpack(_U32)
        if key.startswith(ORIG_SHAPE_PREFIX) and vtype == ARRAY_TYPE:
            self.orig_shapes[key[len(ORIG_SHAPE_PREFIX) :]] = self._read_orig_shape(key)
            return
        if key == "general.alignment":
            self.alignment = self._read_alignment(vtype)
            self.metadata[key] = str(self.alignment)
            return
        self.metadata[key] = self._read_value_text(vtype)

    def _read_value_text(self, vtype: int) -> str:
        if vtype == ARRAY_TYPE:
            element_type = self.cursor.unpack(_U32)
            count = self.cursor.unpack(_U64)
            values = self._read_array(element_type, count, 1, keep=count <= MAX_LISTED_ARRAY)
            if values is None:
                return _summary(element_type, count)
            return json.dumps(values, ensure_ascii=False)
        value = self._read_scalar(vtype)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def _read_scalar(self, vtype: int) -> object:
        if vtype == STRING_TYPE:
            return self.cursor.text(MAX_STRING_LENGTH)
        layout = _STRUCTS.get(vtype)
        if layout is None:
            raise HeaderError(self.path, f"{self.cursor.section} has unknown value type {vtype}")
        value = self.cursor.unpack(layout)
        if vtype == _BOOL_TYPE:
            if value > 1:
                raise HeaderError(self.path, f"{self.cursor.section}: boolean byte is {value}")
            return bool(value)
        if vtype == _FLOAT32_TYPE:
            return _float32(value)
        return value

    def _read_array(self, element_type: int, count: int, depth: int, keep: bool) -> list | None:
        """The elements (when ``keep``), else None after stepping over them unread."""
        cursor = self.cursor
        if element_type == ARRAY_TYPE:
            if depth >= MAX_ARRAY_DEPTH:
                raise HeaderError(self.path, f"{cursor.section} nests arrays too deep")
            cursor.require(count * (4 + 8))
            nested = []
            for _ in range(count):
                inner_type = cursor.unpack(_U32)
                inner_count = cursor.unpack(_U64)
                inner_keep = keep and inner_count <= MAX_LISTED_ARRAY
                inner = self._read_array(inner_type, inner_count, depth + 1, inner_keep)
                if keep:
                    nested.append(inner if inner_keep else _summary(inner_type, inner_count))
            return nested if keep else None
        if element_type == STRING_TYPE:
            cursor.require(count * 8)
            if keep:
                return [cursor.text(MAX_STRING_LENGTH) for _ in range(count)]
            for _ in range(count):
                cursor.skip(cursor.unpack(_U64))
            return None
        layout = _STRUCTS.get(element_type)
        if layout is None:
            raise HeaderError(
                self.path, f"{cursor.section} is an array of unknown value type {element_type}"
            )
        if not keep:
            cursor.skip(count * layout.size)
            return None
        return [self._read_scalar(element_type) for _ in range(count)]

    def _read_orig_shape(self, key: str) -> tuple[int, ...]:
        element_type = self.cursor.unpack(_U32)
        count = self.cursor.unpack(_U64)
        if element_type not in _INTEGER_TYPES or count > MAX_DIMS:
            raise HeaderError(
                self.path,
                f"{_short(key)} must be an array of at most {MAX_DIMS} integers, "
                f"not {count} {_type_name(element_type)}",
            )
        shape = tuple(self._read_scalar(element_type) for _ in range(count))
        if any(dim < 0 for dim in shape):
            raise HeaderError(self.path, f"{_short(key)} has a negative dimension {list(shape)}")
        return shape

    def _read_alignment(self, vtype: int) -> int:
        if vtype != _UINT32_TYPE:
            raise HeaderError(
                self.path, f"general.alignment must be a uint32, not {_type_name(vtype)}"
            )
        alignment = self.cursor.unpack(_U32)
        if alignment == 0 or alignment & (alignment - 1):
            raise HeaderError(self.path, f"general.alignment {alignment} is not a power of two")
        return alignment

    # --- tensors ---------------------------------------------------------------------------

    def _read_tensor_info(self, index: int, count: int) -> tuple[str, str, tuple[int, ...], int]:
        """(name, GGML type name, dims in file order, offset), with the dims checked."""
        cursor = self.cursor
        cursor.section = f"tensor info {index + 1} of {count}"
        name = cursor.name("tensor name")
        if name in self._tensor_names:
            raise HeaderError(self.path, f"duplicate tensor name {_short(name)}")
        self._tensor_names.add(name)
        cursor.section = f"tensor {_short(name)}"
        n_dims = cursor.unpack(_U32)
        if n_dims > MAX_DIMS:
            raise HeaderError(self.path, f"tensor {_short(name)} has {n_dims} dimensions")
        dims = tuple(cursor.unpack(_U64) for _ in range(n_dims))
        type_id = cursor.unpack(_U32)
        dtype = GGML_TYPES.get(type_id)
        if dtype is None:
            raise HeaderError(self.path, f"tensor {_short(name)} has unknown GGML type {type_id}")
        offset = cursor.unpack(_U64)
        block = _BLOCKS[dtype][0]
        row = dims[0] if dims else 1
        if row % block:
            raise HeaderError(
                self.path,
                f"tensor {_short(name)}: {dtype} stores rows in blocks of {block} values, "
                f"but its rows hold {row}",
            )
        if offset % self.alignment:
            raise HeaderError(
                self.path,
                f"tensor {_short(name)}: data offset {offset} is not a multiple of the "
                f"alignment {self.alignment}",
            )
        return name, dtype, dims, offset

    def _check_data_section(self, infos: list, data_start: int) -> None:
        """Every tensor's bytes lie inside the file, and no two tensors share bytes."""
        data_size = self.cursor.file_size - data_start
        spans = []
        for name, dtype, dims, offset in infos:
            block, block_bytes = _BLOCKS[dtype]
            spans.append((offset, math.prod(dims) // block * block_bytes, name))
        spans.sort()
        end_so_far = 0
        for offset, nbytes, name in spans:
            if offset < end_so_far and nbytes:
                raise HeaderError(
                    self.path, f"tensor {_short(name)}: data overlaps the previous tensor's"
                )
            end = offset + nbytes
            if end > data_size:
                raise HeaderError(
                    self.path,
                    f"tensor {_short(name)}: data ends at byte {data_start + end} but the file "
                    f"holds {self.cursor.file_size}: truncated",
                )
            end_so_far = max(end_so_far, end)

    def _tensors(self, infos: list) -> dict[str, TensorInfo]:
        names = self._tensor_names
        is_t5 = self.metadata.get("general.architecture") in T5_ARCHITECTURES
        tensors: dict[str, TensorInfo] = {}
        for name, dtype, dims, _ in infos:
            shape = dims[::-1]
            orig = self.orig_shapes.get(name)
            if orig is not None:
                if math.prod(orig) != math.prod(dims):
                    raise HeaderError(
                        self.path,
                        f"{_short(ORIG_SHAPE_PREFIX + name)} {list(orig)} does not hold the "
                        f"{math.prod(dims)} values of the tensor",
                    )
                shape = orig
            key = name
            if is_t5:
                hf_name = t5_hf_name(name)
                if hf_name is not None and hf_name not in names:
                    key = hf_name
            tensors[key] = TensorInfo(dtype, shape)
        return tensors


class _Cursor:
    """Little-endian reads from the start of a file, in chunks, never past its end."""

    def __init__(self, f: BinaryIO, path: Path, file_size: int):
        self.path = path
        self.file_size = file_size
        self.section = "header"  # what is being read, for messages
        self._file = f
        self._buffer = b""
        self._at = 0  # read position in _buffer
        self._base = 0  # file offset of _buffer[0]

    @property
    def position(self) -> int:
        return self._base + self._at

    @property
    def remaining(self) -> int:
        return self.file_size - self.position

    def require(self, nbytes: int) -> None:
        """Fail unless ``nbytes`` more bytes exist: checked before a hostile length is used."""
        if nbytes > self.remaining:
            raise HeaderError(
                self.path,
                f"{self.section} runs past the end of the file ({self.file_size} bytes): "
                "truncated or corrupt",
            )

    def take(self, nbytes: int) -> bytes:
        self._fill(nbytes)
        data = self._buffer[self._at : self._at + nbytes]
        self._at += nbytes
        return data

    def unpack(self, layout: struct.Struct) -> int:
        self._fill(layout.size)
        (value,) = layout.unpack_from(self._buffer, self._at)
        self._at += layout.size
        return value

    def skip(self, nbytes: int) -> None:
        if self._at + nbytes <= len(self._buffer):
            self._at += nbytes
            return
        self.require(nbytes)
        self._base = self.position + nbytes
        self._buffer, self._at = b"", 0
        self._file.seek(self._base)

    def name(self, what: str) -> str:
        """A key or tensor name: bounded, and strictly UTF-8 (names are matched exactly)."""
        raw = self.take(self._length(MAX_NAME_LENGTH, what))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise HeaderError(
                self.path, f"{self.section}: {what} is not UTF-8 (byte {error.start})"
            ) from None

    def text(self, limit: int) -> str:
        """A string value; stray bytes become U+FFFD rather than failing the whole file."""
        return self.take(self._length(limit, "string")).decode("utf-8", errors="replace")

    def _length(self, limit: int, what: str) -> int:
        length = self.unpack(_U64)
        if length > limit:
            self.require(length)  # a length past the end is reported as truncation
            raise HeaderError(
                self.path,
                f"{self.section}: {what} of {length} bytes exceeds the {limit}-byte limit",
            )
        return length

    def _fill(self, nbytes: int) -> None:
        if self._at + nbytes <= len(self._buffer):
            return
        self.require(nbytes)
        rest = self._buffer[self._at :]
        more = self._file.read(max(nbytes - len(rest), _CHUNK))
        self._base += self._at
        self._buffer, self._at = rest + more, 0
        if len(self._buffer) < nbytes:
            raise HeaderError(self.path, "file shrank while being read")


def _summary(element_type: int, count: int) -> str:
    return f"<array of {count} {_type_name(element_type)}>"


def _type_name(vtype: int) -> str:
    if vtype == STRING_TYPE:
        return "string"
    if vtype == ARRAY_TYPE:
        return "array"
    return VALUE_TYPES[vtype][0] if vtype in VALUE_TYPES else f"type {vtype}"


def _float32(value: float) -> float:
    """A float32 as the shortest decimal that reads back as the same float32 (0.1, not
    0.10000000149011612)."""
    for digits in range(6, 10):
        short = float(f"{value:.{digits}g}")
        if struct.pack("<f", short) == struct.pack("<f", value):
            return short
    return value


def _short(name: str) -> str:
    """A name for a message: quoted, and cut short if a hostile header made it huge."""
    return repr(name if len(name) <= 80 else name[:77] + "...")
