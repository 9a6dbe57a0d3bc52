"""Fuzzing: whatever bytes a file holds, read_header either reads it or raises
UnreadableFileError (or a subclass); no other exception ever escapes."""

from __future__ import annotations

import contextlib
import json
import pickle
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save_file

from pantry.errors import UnreadableFileError
from pantry.formats import read_header

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _valid_safetensors() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.safetensors"
        save_file(
            {"a": np.zeros((2, 3), dtype=np.float16), "b": np.zeros(4, dtype=np.int64)},
            str(path),
            metadata={"k": "v"},
        )
        return path.read_bytes()


def _valid_torch_saves() -> list[bytes]:
    import torch

    out = []
    with tempfile.TemporaryDirectory() as folder:
        for zipped in (True, False):
            path = Path(folder) / "m.pt"
            state = {"state_dict": {"w": torch.zeros(2, 2).half()}, "step": 3}
            torch.save(state, path, _use_new_zipfile_serialization=zipped)
            out.append(path.read_bytes())
    return out


SAFETENSORS = _valid_safetensors()
TORCH_SAVES = _valid_torch_saves()
PICKLES = [pickle.dumps({"a": [1, 2.5, "x", (None, True)], 3: {4}}, protocol=p) for p in range(6)]


def _read(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    with contextlib.suppress(UnreadableFileError):
        read_header(path)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buffer = bytearray(data)
    for position, value in edits:
        buffer[position % len(buffer)] = value
    return bytes(buffer[:cut] if cut is not None else buffer)


EDITS = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8)
CUT = st.one_of(st.none(), st.integers(0, 4096))


@FUZZ
@given(data=st.binary(max_size=512), suffix=st.sampled_from([".safetensors", ".ckpt", ".pt", ".x"]))
def test_random_bytes_only_raise_unreadable_file_error(
    scratch: Path, data: bytes, suffix: str
) -> None:
    _read(scratch / f"random{suffix}", data)


@FUZZ
@given(edits=EDITS, cut=CUT)
def test_mutated_safetensors_only_raise_unreadable_file_error(scratch: Path, edits, cut) -> None:
    _read(scratch / "mutated.safetensors", _mutate(SAFETENSORS, edits, cut))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ENTRIES = st.fixed_dictionaries(
    {},
    optional={
        "dtype": st.sampled_from(["F16", "F32", "BF16", "F4", "X"]) | JSON_VALUES,
        "shape": st.lists(st.integers(-2, 5), max_size=3) | JSON_VALUES,
        "data_offsets": st.lists(st.integers(-2, 40), min_size=2, max_size=2) | JSON_VALUES,
    },
)


@FUZZ
@given(
    header=st.dictionaries(st.text(max_size=6), ENTRIES | JSON_VALUES, max_size=5),
    data_size=st.integers(0, 64),
)
def test_structured_header_fuzz_only_raises_unreadable_file_error(
    scratch: Path, header: dict, data_size: int
) -> None:
    raw = json.dumps(header).encode()
    _read(scratch / "fuzz.safetensors", struct.pack("<Q", len(raw)) + raw + bytes(data_size))


@FUZZ
@given(which=st.integers(0, len(TORCH_SAVES) - 1), edits=EDITS, cut=CUT)
def test_mutated_torch_saves_only_raise_unreadable_file_error(
    scratch: Path, which, edits, cut
) -> None:
    _read(scratch / "mutated.ckpt", _mutate(TORCH_SAVES[which], edits, cut))


@FUZZ
@given(which=st.integers(0, len(PICKLES) - 1), edits=EDITS, cut=CUT)
def test_mutated_pickles_only_raise_unreadable_file_error(scratch: Path, which, edits, cut) -> None:
    _read(scratch / "mutated.pt", _mutate(PICKLES[which], edits, cut))


@FUZZ
@given(body=st.binary(max_size=256), protocol=st.integers(2, 5))
def test_random_opcodes_after_a_pickle_header_only_raise_unreadable_file_error(
    scratch: Path, body: bytes, protocol: int
) -> None:
    _read(scratch / "opcodes.pt", bytes([0x80, protocol]) + body)
