"""GGUF headers: files from llama.cpp's own writer read back faithfully; hand-made broken ones
are refused with one-line reasons; fuzzed bytes never raise anything but UnreadableFileError."""

from __future__ import annotations

import contextlib
import math
import os
import struct
import tempfile
from pathlib import Path

import gguf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pantry.errors import HeaderError, UnreadableFileError
from pantry.formats import MODEL_EXTENSIONS, read_header
from pantry.formats import gguf as gguf_reader
from pantry.formats.gguf import GGML_TYPES, read_gguf_header
from pantry.formats.header import DTYPE_SIZES, GGML_QUANT_BLOCKS, TensorInfo

Q = gguf.GGMLQuantizationType


# --- files written by llama.cpp's gguf package ------------------------------------------------


def write_sparse_gguf(
    path: Path,
    tensors: dict[str, tuple[str, tuple[int, ...]]],
    arch: str = "flux",
    metadata: dict[str, object] | None = None,
) -> Path:
    """A GGUF file from the reference writer: {name: (GGML type, PyTorch shape)}, real header,
    data region left as a sparse hole of the right size (so model-sized files cost nothing)."""
    writer = gguf.GGUFWriter(path, arch=arch)
    for key, value in (metadata or {}).items():
        if isinstance(value, bool):
            writer.add_bool(key, value)
        elif isinstance(value, str):
            writer.add_string(key, value)
        elif isinstance(value, int):
            writer.add_uint32(key, value)
        elif isinstance(value, float):
            writer.add_float32(key, value)
        else:
            writer.add_array(key, list(value))
    data_size = 0
    for name, (type_name, shape) in tensors.items():
        qtype = Q[type_name]
        block, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
        nbytes = math.prod(shape) // block * block_bytes
        writer.add_tensor_info(name, shape, np.dtype(np.float32), nbytes, raw_dtype=qtype)
        data_size += -(-nbytes // writer.data_alignment) * writer.data_alignment
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    header_end = writer.fout[0].tell()
    writer.close()
    data_start = -(-header_end // writer.data_alignment) * writer.data_alignment
    os.truncate(path, data_start + data_size)
    return path


FLUX_LIKE = {
    "double_blocks.0.img_attn.qkv.weight": ("Q4_K", (9216, 3072)),
    "double_blocks.0.img_attn.qkv.bias": ("F32", (9216,)),
    "double_blocks.0.img_mlp.0.weight": ("Q6_K", (12288, 3072)),
    "double_blocks.0.img_mlp.2.weight": ("Q8_0", (3072, 12288)),
    "img_in.weight": ("F16", (3072, 64)),
    "final_layer.linear.weight": ("BF16", (64, 3072)),
}


@pytest.fixture
def flux_gguf(tmp_path: Path) -> Path:
    return write_sparse_gguf(
        tmp_path / "flux1-dev-Q4_K_S.gguf",
        FLUX_LIKE,
        metadata={"general.file_type": 14, "general.quantization_version": 2},
    )


def test_tensors_keep_their_ggml_type_and_pytorch_order_shape(flux_gguf: Path) -> None:
    header = read_header(flux_gguf)
    assert header.format == "gguf"
    assert header.tensors == {name: TensorInfo(t, shape) for name, (t, shape) in FLUX_LIKE.items()}


def test_quantised_sizes_are_whole_blocks(flux_gguf: Path) -> None:
    tensors = read_header(flux_gguf).tensors
    assert tensors["double_blocks.0.img_attn.qkv.weight"].nbytes == 9216 * 3072 // 256 * 144
    assert tensors["double_blocks.0.img_mlp.2.weight"].nbytes == 3072 * 12288 // 32 * 34
    assert tensors["img_in.weight"].nbytes == 3072 * 64 * 2


def test_scalar_metadata_is_kept_as_text_under_its_gguf_key(flux_gguf: Path) -> None:
    metadata = read_header(flux_gguf).metadata
    assert metadata["general.architecture"] == "flux"
    assert metadata["general.file_type"] == "14"
    assert metadata["general.quantization_version"] == "2"


def test_metadata_values_of_every_kind_read_as_text(tmp_path: Path) -> None:
    path = write_sparse_gguf(
        tmp_path / "m.gguf",
        {"w": ("F32", (4,))},
        metadata={
            "general.name": "Flux.1 Dev — Q4",
            "t.scale": 0.1,
            "t.flag": True,
            "general.tags": ["flux", "gguf"],
            "t.sizes": [1, 2, 3],
            "tokenizer.ggml.tokens": [f"tok{i}" for i in range(1000)],
            "tokenizer.ggml.scores": [0.5] * 1000,
        },
    )
    metadata = read_header(path).metadata
    assert metadata["general.name"] == "Flux.1 Dev — Q4"
    assert metadata["t.scale"] == "0.1"
    assert metadata["t.flag"] == "true"
    assert metadata["general.tags"] == '["flux", "gguf"]'
    assert metadata["t.sizes"] == "[1, 2, 3]"
    assert metadata["tokenizer.ggml.tokens"] == "<array of 1000 string>"
    assert metadata["tokenizer.ggml.scores"] == "<array of 1000 float32>"


def test_comfy_orig_shape_restores_the_shape_of_flattened_tensors(tmp_path: Path) -> None:
    # ComfyUI-GGUF stores SD1/SDXL convs as rows of 256 so they can be block-quantised.
    path = write_sparse_gguf(
        tmp_path / "sdxl.gguf",
        {"input_blocks.0.0.weight": ("Q8_0", (45, 256))},  # 320*4*3*3 = 11520 = 45*256
        arch="sdxl",
        metadata={"comfy.gguf.orig_shape.input_blocks.0.0.weight": [320, 4, 3, 3]},
    )
    header = read_header(path)
    assert header.tensors["input_blocks.0.0.weight"] == TensorInfo("Q8_0", (320, 4, 3, 3))
    assert not any(k.startswith("comfy.gguf.orig_shape.") for k in header.metadata)


def test_orig_shape_that_does_not_fit_the_tensor_is_refused(tmp_path: Path) -> None:
    path = write_sparse_gguf(
        tmp_path / "bad.gguf",
        {"w": ("F16", (4, 256))},
        metadata={"comfy.gguf.orig_shape.w": [3, 3]},
    )
    assert "does not hold the 1024 values" in _reason(path)


def test_llama_cpp_t5_names_become_hugging_face_names(tmp_path: Path) -> None:
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.T5ENCODER, 1)
    hf_names = [
        "shared.weight",
        "encoder.block.0.layer.0.SelfAttention.q.weight",
        "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
        "encoder.block.0.layer.1.DenseReluDense.wi_0.weight",
        "encoder.block.0.layer.1.DenseReluDense.wo.weight",
        "encoder.block.0.layer.1.layer_norm.weight",
        "encoder.final_layer_norm.weight",
    ]
    stored = {name_map.get_name(n, try_suffixes=(".weight",)): n for n in hf_names}
    assert "enc.blk.0.attn_q.weight" in stored  # the names llama.cpp writes
    path = write_sparse_gguf(
        tmp_path / "t5-v1_1-xxl-encoder-Q8_0.gguf",
        {name: ("F32", (32,)) for name in stored},
        arch="t5encoder",
    )
    assert sorted(read_header(path).tensors) == sorted(hf_names)


def test_t5_style_names_are_left_alone_in_other_architectures(tmp_path: Path) -> None:
    path = write_sparse_gguf(tmp_path / "m.gguf", {"token_embd.weight": ("F32", (32,))})
    assert list(read_header(path).tensors) == ["token_embd.weight"]


def test_gguf_is_read_by_content_whatever_its_name(flux_gguf: Path) -> None:
    renamed = flux_gguf.with_name("flux.safetensors")
    flux_gguf.rename(renamed)
    assert read_header(renamed).format == "gguf"


def test_gguf_is_a_model_extension() -> None:
    assert ".gguf" in MODEL_EXTENSIONS


class _CountingFile:
    """A file object that remembers how many bytes were read through it."""

    def __init__(self, handle, counter: list[int]):
        self._handle, self._counter = handle, counter

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._counter.append(len(data))
        return data

    def __getattr__(self, name: str):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()


def test_only_the_header_is_read_from_disk(
    flux_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.truncate(flux_gguf, 64 * 1024**3)  # tensors filling 64 GiB (a sparse hole, no disk used)
    read_sizes: list[int] = []
    # the wrapper closes the file in __exit__, like the file object it stands for
    counting_open = lambda *a, **k: _CountingFile(open(*a, **k), read_sizes)  # noqa: E731, SIM115
    monkeypatch.setattr(gguf_reader, "open", counting_open, raising=False)
    assert read_gguf_header(flux_gguf).file_size == 64 * 1024**3
    assert 0 < sum(read_sizes) <= 1024 * 1024


def test_ggml_type_table_matches_llama_cpp_constants() -> None:
    for type_id, name in GGML_TYPES.items():
        if name == "Q2_0":  # newer than the gguf package release
            continue
        assert Q(type_id).name == name
        block, block_bytes = gguf.GGML_QUANT_SIZES[Q(type_id)]
        if name == "Q8_1":
            # gguf-py still has the old float scales (40); ggml's block_q8_1 is fp16 (36).
            assert GGML_QUANT_BLOCKS[name] == (32, 36)
        elif name in GGML_QUANT_BLOCKS:
            assert GGML_QUANT_BLOCKS[name] == (block, block_bytes)
        else:
            assert (1, DTYPE_SIZES[name]) == (block, block_bytes)


# --- hand-made files: every rule of the format ------------------------------------------------

U8, I32, F32, BOOL, STRING, ARRAY, U32, U64 = 0, 5, 6, 7, 8, 9, 4, 10
T_F32, T_F16, T_Q4_0, T_Q4_K = 0, 1, 2, 12


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


def _u64(value: int) -> bytes:
    return struct.pack("<Q", value)


def _string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return _u64(len(raw)) + raw


def kv(key: str | bytes, vtype: int, payload: bytes) -> bytes:
    return _string(key) + _u32(vtype) + payload


def tensor_info(name: str, dims: tuple[int, ...], type_id: int, offset: int) -> bytes:
    """dims in GGUF order (fastest-varying first)."""
    return (
        _string(name) + _u32(len(dims)) + b"".join(map(_u64, dims)) + _u32(type_id) + _u64(offset)
    )


def gguf_file(
    path: Path,
    kvs: list[bytes] = (),
    infos: list[bytes] = (),
    data_size: int = 0,
    *,
    version: bytes = _u32(3),
    counts: tuple[int, int] | None = None,
    alignment: int = 32,
) -> Path:
    n_tensors, n_kvs = counts if counts is not None else (len(infos), len(kvs))
    head = b"GGUF" + version + _u64(n_tensors) + _u64(n_kvs) + b"".join(kvs) + b"".join(infos)
    padding = (-len(head) % alignment) if infos else 0
    path.write_bytes(head + bytes(padding + data_size))
    return path


def _reason(path: Path) -> str:
    with pytest.raises(HeaderError) as caught:
        read_header(path)
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)
    return caught.value.reason


def test_hand_made_file_reads_back(tmp_path: Path) -> None:
    path = gguf_file(
        tmp_path / "m.gguf",
        [kv("general.architecture", STRING, _string("flux"))],
        [tensor_info("a", (256, 2), T_Q4_K, 0), tensor_info("b", (3,), T_F32, 288)],
        data_size=288 + 12,
    )
    assert read_header(path).tensors == {
        "a": TensorInfo("Q4_K", (2, 256)),
        "b": TensorInfo("F32", (3,)),
    }


def test_version_2_reads_like_version_3(tmp_path: Path) -> None:
    path = gguf_file(tmp_path / "m.gguf", [kv("a.b", U8, b"\x07")], version=_u32(2))
    assert read_header(path).metadata == {"a.b": "7"}


def test_nested_arrays_are_read(tmp_path: Path) -> None:
    inner = _u32(I32) + _u64(2) + struct.pack("<ii", 1, -2)
    path = gguf_file(tmp_path / "m.gguf", [kv("a.b", ARRAY, _u32(ARRAY) + _u64(2) + inner * 2)])
    assert read_header(path).metadata["a.b"] == "[[1, -2], [1, -2]]"


def test_declared_alignment_places_the_data(tmp_path: Path) -> None:
    path = gguf_file(
        tmp_path / "m.gguf",
        [kv("general.alignment", U32, _u32(64))],
        [tensor_info("a", (16,), T_F32, 0), tensor_info("b", (16,), T_F32, 64)],
        data_size=128,
        alignment=64,
    )
    assert set(read_header(path).tensors) == {"a", "b"}


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        (_u32(1), "GGUF version 1 is obsolete"),
        (_u32(4), "unsupported GGUF version 4"),
        (_u32(0), "unsupported GGUF version 0"),
        (struct.pack(">I", 3), "big-endian GGUF files are not supported"),
    ],
)
def test_unsupported_versions_are_refused(tmp_path: Path, version: bytes, reason: str) -> None:
    path = gguf_file(tmp_path / "m.gguf", version=version)
    assert reason in _reason(path)


def test_bad_magic_in_a_gguf_named_file(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"<!DOCTYPE html><html>rate limited</html>")
    assert _reason(path).startswith("not a GGUF file: starts with b'<!DO'")


def test_file_too_short_for_the_fixed_header(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert "too short for a GGUF file (8 bytes)" in _reason(path)


@pytest.mark.parametrize("counts", [(2**64 - 1, 0), (0, 2**64 - 1), (2**40, 2**40)])
def test_counts_the_file_cannot_hold_are_refused_at_once(tmp_path: Path, counts) -> None:
    path = gguf_file(tmp_path / "m.gguf", counts=counts)
    assert "more than its 24 bytes can hold" in _reason(path)


def test_huge_string_length_is_refused_without_allocating(tmp_path: Path) -> None:
    path = gguf_file(tmp_path / "m.gguf", [_u64(2**62) + b"key" + bytes(16)])
    assert "runs past the end of the file" in _reason(path)


def test_string_value_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    too_long = gguf_reader.MAX_STRING_LENGTH + 1
    path = gguf_file(tmp_path / "m.gguf", [kv("a.b", STRING, _u64(too_long))])
    os.truncate(path, too_long + 100)  # the bytes exist (sparse): only the limit stops it
    assert f"string of {too_long} bytes exceeds" in _reason(path)


def test_huge_array_count_is_refused_at_once(tmp_path: Path) -> None:
    path = gguf_file(tmp_path / "m.gguf", [kv("a.b", ARRAY, _u32(STRING) + _u64(2**60))])
    assert "metadata value 'a.b' runs past the end" in _reason(path)


def test_arrays_nested_too_deep_are_refused(tmp_path: Path) -> None:
    value = _u32(U8) + _u64(0)
    for _ in range(6):
        value = _u32(ARRAY) + _u64(1) + value
    path = gguf_file(tmp_path / "m.gguf", [kv("a.b", ARRAY, value)])
    assert "nests arrays too deep" in _reason(path)


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ([kv("a.b", 13, b"")], "unknown value type 13"),
        ([kv("a.b", ARRAY, _u32(99) + _u64(1))], "array of unknown value type 99"),
        ([kv("a.b", BOOL, b"\x02")], "boolean byte is 2"),
        ([kv("", U8, b"\x00")], "has an empty key"),
        ([kv("a.b", U8, b"\x00"), kv("a.b", U8, b"\x01")], "duplicate metadata key 'a.b'"),
        ([kv(b"a.\xff", U8, b"\x00")], "metadata key is not UTF-8"),
        ([kv("general.alignment", U64, _u64(32))], "general.alignment must be a uint32"),
        ([kv("general.alignment", U32, _u32(48))], "general.alignment 48 is not a power of two"),
        ([kv("general.alignment", U32, _u32(0))], "general.alignment 0 is not a power of two"),
    ],
)
def test_malformed_metadata_is_refused(tmp_path: Path, entries: list[bytes], reason: str) -> None:
    path = gguf_file(tmp_path / "m.gguf", entries)
    assert reason in _reason(path)


@pytest.mark.parametrize(
    ("infos", "data_size", "reason"),
    [
        ([tensor_info("a", (8,), 4, 0)], 32, "unknown GGML type 4"),
        ([tensor_info("a", (8,), T_F32, 16)], 64, "offset 16 is not a multiple of the alignment"),
        (
            [tensor_info("a", (100, 2), T_Q4_K, 0)],
            512,
            "blocks of 256 values, but its rows hold 100",
        ),
        ([tensor_info("a", (1,) * 9, T_F32, 0)], 32, "has 9 dimensions"),
        (
            [tensor_info("a", (16,), T_F32, 0), tensor_info("b", (16,), T_F32, 32)],
            96,
            "tensor 'b': data overlaps",
        ),
        ([tensor_info("a", (1024,), T_F16, 0)], 1000, "data ends at byte"),
        ([tensor_info("a", (32,), T_F32, 2**63)], 128, "truncated"),
    ],
)
def test_malformed_tensor_infos_are_refused(tmp_path: Path, infos, data_size, reason) -> None:
    path = gguf_file(tmp_path / "m.gguf", [], infos, data_size)
    assert reason in _reason(path)


def test_duplicate_tensor_names_are_refused(tmp_path: Path) -> None:
    infos = [tensor_info("w", (8,), T_F32, 0), tensor_info("w", (8,), T_F32, 32)]
    path = gguf_file(tmp_path / "m.gguf", [], infos, 64)
    assert "duplicate tensor name 'w'" in _reason(path)


def test_truncated_download_names_the_missing_bytes(flux_gguf: Path) -> None:
    os.truncate(flux_gguf, flux_gguf.stat().st_size - 1000)
    assert _reason(flux_gguf).endswith("truncated")


def test_every_cut_through_the_header_is_a_header_error(tmp_path: Path) -> None:
    whole = write_sparse_gguf(
        tmp_path / "m.gguf", {"w": ("Q4_0", (2, 64))}, metadata={"general.tags": ["a"]}
    ).read_bytes()
    header_end = whole.rindex(b"w") + 1 + 4 + 16 + 4 + 8
    cut = tmp_path / "cut.gguf"
    for end in range(1, header_end + 1):
        cut.write_bytes(whole[:end])
        with pytest.raises(HeaderError):
            read_header(cut)


# --- fuzzing ------------------------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid_gguf_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = write_sparse_gguf(
            Path(folder) / "m.gguf",
            {"a.weight": ("Q4_K", (2, 256)), "a.bias": ("F32", (2,)), "b": ("F16", (3, 4))},
            metadata={
                "general.tags": ["x", "y"],
                "comfy.gguf.orig_shape.b": [2, 6],
                "general.flag": True,
                "general.alignment": 32,
            },
        )
        return path.read_bytes()


VALID = _valid_gguf_bytes()


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _only_unreadable_errors(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    with contextlib.suppress(UnreadableFileError):
        read_header(path)


@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=6),
    cut=st.one_of(st.none(), st.integers(0, len(VALID))),
)
def test_mutated_gguf_only_raises_unreadable_file_error(scratch: Path, edits, cut) -> None:
    buffer = bytearray(VALID)
    for position, value in edits:
        buffer[position] = value
    _only_unreadable_errors(scratch / "m.gguf", bytes(buffer[:cut]))


@FUZZ
@given(body=st.binary(max_size=400))
def test_random_bytes_after_the_magic_only_raise_unreadable_file_error(
    scratch: Path, body: bytes
) -> None:
    _only_unreadable_errors(scratch / "r.gguf", b"GGUF\x03\x00\x00\x00" + body)


def test_the_valid_fuzz_seed_reads(scratch: Path) -> None:
    path = scratch / "seed.gguf"
    path.write_bytes(VALID)
    assert read_header(path).tensors["b"] == TensorInfo("F16", (2, 6))
