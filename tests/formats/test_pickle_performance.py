"""Reading a multi-gigabyte checkpoint touches its pickle, never its tensor data.

The files are real torch saves whose data regions are holes (sparse files): gigabytes on
paper, kilobytes on disk, so reading a data blob by mistake would show up as bytes read.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.serialization import skip_data

from pantry.formats.pickle_reader import read_pickle_header

GIB = 1024**3


def _bytes_read_by_this_process() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar"))


def _measure(path: Path):
    before = _bytes_read_by_this_process()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        header = read_pickle_header(path)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return header, _bytes_read_by_this_process() - before, peak, elapsed


pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux /proc")


def test_four_gigabyte_zip_checkpoint_reads_only_data_pkl(tmp_path: Path) -> None:
    path = tmp_path / "sd-v1-5-pruned.ckpt"
    with FakeTensorMode():  # shapes without memory
        unet = {f"model.diffusion_model.blocks.{i}.weight": torch.empty(GIB // 2, dtype=torch.half)
                for i in range(4)}  # fmt: skip
    with skip_data(materialize_fake_tensors=True):  # torch seeks over the data: a sparse file
        torch.save({"state_dict": unet, "global_step": 840000}, path)
    assert path.stat().st_size > 4 * GIB

    header, bytes_read, peak, elapsed = _measure(path)

    assert header.tensors["model.diffusion_model.blocks.3.weight"].shape == (GIB // 2,)
    assert bytes_read < 256 * 1024
    assert peak < 8 * 1024 * 1024
    assert elapsed < 2.0


def test_four_gigabyte_legacy_checkpoint_reads_only_its_pickles(tmp_path: Path) -> None:
    path = tmp_path / "old-format.ckpt"
    state = {f"layer.{i}.weight": torch.zeros(64, 64) for i in range(50)}
    torch.save({"state_dict": state}, path, _use_new_zipfile_serialization=False)
    os.truncate(path, 4 * GIB)  # the raw storages that follow the pickles, as a hole

    header, bytes_read, peak, elapsed = _measure(path)

    assert len(header.tensors) == 50
    assert bytes_read < 256 * 1024
    assert peak < 8 * 1024 * 1024
    assert elapsed < 2.0
