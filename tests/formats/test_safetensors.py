"""read_safetensors_header: agrees with the safetensors library, refuses every malformed header."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from pantry.errors import HeaderError, UnreadableFileError
from pantry.formats.safetensors import read_safetensors_header
from tests.formats.conftest import write_safetensors_bytes, write_safetensors_json

F32_2x2 = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}


def test_reads_names_dtypes_shapes_and_metadata_like_the_library(lora_file: Path) -> None:
    header = read_safetensors_header(lora_file)
    with safe_open(str(lora_file), "np") as reference:
        expected = {
            name: (
                reference.get_slice(name).get_dtype(),
                tuple(reference.get_slice(name).get_shape()),
            )
            for name in reference.keys()  # noqa: SIM118 - safe_open is not a mapping
        }
        expected_metadata = reference.metadata()
    assert {name: (t.dtype, t.shape) for name, t in header.tensors.items()} == expected
    assert header.metadata == expected_metadata
    assert header.format == "safetensors"


def test_header_length_and_data_offset_come_from_the_length_prefix(lora_file: Path) -> None:
    raw = lora_file.read_bytes()
    header = read_safetensors_header(lora_file)
    assert header.header_length == struct.unpack("<Q", raw[:8])[0]
    assert header.data_offset == 8 + header.header_length
    assert header.file_size == len(raw)


def test_file_with_no_tensors_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "empty.safetensors"
    save_file({}, str(path))
    assert read_safetensors_header(path).tensors == {}


def test_bf16_and_fp8_dtypes_are_known(tmp_path: Path) -> None:
    header = {
        "a": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]},
        "b": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [6, 8]},
    }
    path = write_safetensors_json(tmp_path / "m.safetensors", header, 8)
    tensors = read_safetensors_header(path).tensors
    assert (tensors["a"].dtype, tensors["b"].dtype) == ("BF16", "F8_E4M3")


def test_entries_may_list_offsets_in_any_order(tmp_path: Path) -> None:
    header = {
        "late": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]},
        "early": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
    }
    path = write_safetensors_json(tmp_path / "m.safetensors", header, 8)
    assert set(read_safetensors_header(path).tensors) == {"late", "early"}


def test_null_metadata_reads_as_empty(tmp_path: Path) -> None:
    path = write_safetensors_json(tmp_path / "m.safetensors", {"__metadata__": None}, 0)
    assert read_safetensors_header(path).metadata == {}


def _reason(path: Path) -> str:
    with pytest.raises(HeaderError) as caught:
        read_safetensors_header(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)
    return caught.value.reason


def test_file_shorter_than_the_length_prefix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stub.safetensors"
    path.write_bytes(b"\x10\x00\x00")
    assert "too short" in _reason(path)


def test_header_length_past_the_end_of_the_file_is_refused(tmp_path: Path) -> None:
    path = write_safetensors_bytes(tmp_path / "m.safetensors", b"{}", length=500)
    assert "past the end of the file" in _reason(path)


def test_header_length_of_2_to_the_63_is_refused_without_reading(tmp_path: Path) -> None:
    path = write_safetensors_bytes(tmp_path / "m.safetensors", b"{}", length=2**63)
    assert "exceeds" in _reason(path)


def test_truncated_download_is_refused(lora_file: Path) -> None:
    lora_file.write_bytes(lora_file.read_bytes()[:-10])
    assert "truncated" in _reason(lora_file)


def test_bytes_after_the_last_tensor_are_refused(lora_file: Path) -> None:
    lora_file.write_bytes(lora_file.read_bytes() + b"junk")
    assert "4 bytes after the last tensor" in _reason(lora_file)


def test_non_utf8_header_is_refused(tmp_path: Path) -> None:
    path = write_safetensors_bytes(tmp_path / "m.safetensors", b'{"\xff\xfe": 1}')
    assert "not UTF-8" in _reason(path)


def test_invalid_json_is_refused(tmp_path: Path) -> None:
    path = write_safetensors_bytes(tmp_path / "m.safetensors", b'{"a": ')
    assert "not valid JSON" in _reason(path)


def test_json_array_header_is_refused(tmp_path: Path) -> None:
    path = write_safetensors_bytes(tmp_path / "m.safetensors", b"[1, 2]")
    assert "not an object" in _reason(path)


def test_overlapping_offsets_are_refused(tmp_path: Path) -> None:
    header = {
        "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
        "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]},
    }
    path = write_safetensors_json(tmp_path / "m.safetensors", header, 6)
    assert "overlaps" in _reason(path)


def test_gap_between_tensors_is_refused_like_the_library_does(tmp_path: Path) -> None:
    header = {
        "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
        "b": {"dtype": "U8", "shape": [4], "data_offsets": [8, 12]},
    }
    path = write_safetensors_json(tmp_path / "m.safetensors", header, 12)
    assert "gap" in _reason(path)


def test_offsets_past_the_data_region_are_refused(tmp_path: Path) -> None:
    path = write_safetensors_json(tmp_path / "m.safetensors", {"w": F32_2x2}, 8)
    assert "truncated" in _reason(path)


def test_negative_offsets_are_refused(tmp_path: Path) -> None:
    header = {"w": {"dtype": "U8", "shape": [4], "data_offsets": [-4, 0]}}
    path = write_safetensors_json(tmp_path / "m.safetensors", header, 4)
    assert "data_offsets" in _reason(path)


def test_byte_count_that_disagrees_with_dtype_and_shape_is_refused(tmp_path: Path) -> None:
    header = {"w": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 16]}}
    path = write_safetensors_json(tmp_path / "m.safetensors", header, 16)
    assert "needs 8" in _reason(path)


def test_unknown_dtype_is_refused(tmp_path: Path) -> None:
    header = {"w": {"dtype": "F12", "shape": [1], "data_offsets": [0, 2]}}
    path = write_safetensors_json(tmp_path / "m.safetensors", header, 2)
    assert "unknown dtype 'F12'" in _reason(path)


@pytest.mark.parametrize("shape", [[-1, 4], [2.0, 2], ["2", 2], [True, 4], 4])
def test_shape_that_is_not_a_list_of_natural_numbers_is_refused(tmp_path: Path, shape) -> None:
    header = {"w": {"dtype": "U8", "shape": shape, "data_offsets": [0, 4]}}
    path = write_safetensors_json(tmp_path / "m.safetensors", header, 4)
    assert "shape" in _reason(path)


@pytest.mark.parametrize("offsets", [[0], [0, 4, 8], [0.0, 4], "04", [4, 0]])
def test_malformed_data_offsets_are_refused(tmp_path: Path, offsets) -> None:
    header = {"w": {"dtype": "U8", "shape": [4], "data_offsets": offsets}}
    path = write_safetensors_json(tmp_path / "m.safetensors", header, 4)
    assert "data_offsets" in _reason(path)


@pytest.mark.parametrize("entry", [[1, 2], "F32", {"dtype": "U8", "shape": [1]}])
def test_tensor_entry_that_is_not_a_full_object_is_refused(tmp_path: Path, entry) -> None:
    path = write_safetensors_json(tmp_path / "m.safetensors", {"w": entry}, 1)
    assert "'w'" in _reason(path)


@pytest.mark.parametrize("metadata", [{"steps": 1000}, {"tags": ["a"]}, ["format", "pt"]])
def test_metadata_that_is_not_strings_to_strings_is_refused(tmp_path: Path, metadata) -> None:
    path = write_safetensors_json(tmp_path / "m.safetensors", {"__metadata__": metadata}, 0)
    assert "__metadata__" in _reason(path)


def test_huge_tensor_name_is_shortened_in_the_message(tmp_path: Path) -> None:
    header = {"x" * 5000: {"dtype": "F12", "shape": [1], "data_offsets": [0, 1]}}
    path = write_safetensors_json(tmp_path / "m.safetensors", header, 1)
    assert len(_reason(path)) < 200


def test_directory_is_refused_with_a_clear_reason(tmp_path: Path) -> None:
    folder = tmp_path / "x.safetensors"
    folder.mkdir()
    with pytest.raises(UnreadableFileError, match="is a directory"):
        read_safetensors_header(folder)


def test_header_json_is_read_but_tensor_data_is_not(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "big.safetensors"
    save_file({"w": np.zeros((256, 256), dtype=np.float32)}, str(path))
    requested: list[int] = []
    real_open = open

    class CountingFile:
        def __init__(self, f):
            self._f = f

        def read(self, n=-1):
            requested.append(n)
            return self._f.read(n)

        def __getattr__(self, name):
            return getattr(self._f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._f.close()

    monkeypatch.setattr("builtins.open", lambda *a, **k: CountingFile(real_open(*a, **k)))
    header = read_safetensors_header(path)
    assert sum(requested) == 8 + header.header_length
    assert json.loads(path.read_bytes()[8 : 8 + header.header_length])["w"]["shape"] == [256, 256]
