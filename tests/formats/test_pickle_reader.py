"""read_pickle_header on checkpoints written by real torch.save, zip and legacy formats."""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from pantry.errors import PickleFormatError
from pantry.formats.pickle_reader import read_pickle_header


def _shapes(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    return {name: (t.dtype, t.shape) for name, t in read_pickle_header(path).tensors.items()}


@pytest.fixture
def sd_ckpt(tmp_path: Path) -> Path:
    """Lightning-style SD checkpoint: weights under "state_dict", training counters beside."""
    state_dict = OrderedDict(
        [
            ("model.diffusion_model.input_blocks.0.0.weight", torch.zeros(320, 4, 3, 3)),
            ("first_stage_model.decoder.conv_in.weight", torch.zeros(8, 4, 3, 3).half()),
            ("cond_stage_model.transformer.text_model.embeddings.position_ids",
             torch.arange(77).unsqueeze(0)),
            ("model_ema.decay", torch.tensor(0.9999, dtype=torch.bfloat16)),
        ]
    )  # fmt: skip
    path = tmp_path / "v1-5.ckpt"
    torch.save({"state_dict": state_dict, "global_step": 840000, "epoch": 6}, path)
    return path


def test_state_dict_tensors_are_listed_without_a_prefix(sd_ckpt: Path) -> None:
    assert _shapes(sd_ckpt) == {
        "model.diffusion_model.input_blocks.0.0.weight": ("F32", (320, 4, 3, 3)),
        "first_stage_model.decoder.conv_in.weight": ("F16", (8, 4, 3, 3)),
        "cond_stage_model.transformer.text_model.embeddings.position_ids": ("I64", (1, 77)),
        "model_ema.decay": ("BF16", ()),
    }


def test_top_level_counters_are_kept_as_extras(sd_ckpt: Path) -> None:
    assert read_pickle_header(sd_ckpt).extras == {"global_step": 840000, "epoch": 6}


def test_torch_save_uses_only_allowlisted_globals(sd_ckpt: Path) -> None:
    header = read_pickle_header(sd_ckpt)
    assert "torch._utils._rebuild_tensor_v2" in header.pickle_globals
    assert header.unsafe_globals == []
    assert not header.is_unsafe


def test_top_level_state_dict_with_parameters_and_views(tmp_path: Path) -> None:
    base = torch.zeros(10)
    state = {
        "w": torch.nn.Parameter(torch.zeros(3, 2)),
        "view": base[2:6],
        "f8": base.to(torch.float8_e4m3fn),
    }
    path = tmp_path / "vae.pt"
    torch.save(state, path)
    assert _shapes(path) == {"w": ("F32", (3, 2)), "view": ("F32", (4,)), "f8": ("F8_E4M3", (10,))}


def test_legacy_non_zip_save_is_read(tmp_path: Path) -> None:
    path = tmp_path / "old.pth"
    state = {"conv.weight": torch.zeros(16, 3, 3, 3).half(), "conv.bias": torch.zeros(16)}
    torch.save(state, path, _use_new_zipfile_serialization=False)
    assert not zipfile.is_zipfile(path)
    assert _shapes(path) == {"conv.weight": ("F16", (16, 3, 3, 3)), "conv.bias": ("F32", (16,))}


def test_zip_folder_name_inside_the_archive_does_not_matter(tmp_path: Path) -> None:
    original = tmp_path / "original_name.pt"
    torch.save({"w": torch.zeros(2)}, original)
    renamed = tmp_path / "renamed.bin"
    original.rename(renamed)
    assert zipfile.ZipFile(renamed).namelist()[0].startswith("original_name/")
    assert _shapes(renamed) == {"w": ("F32", (2,))}


def test_a1111_textual_inversion_embedding(tmp_path: Path) -> None:
    path = tmp_path / "bad-hands.pt"
    torch.save(
        {
            "string_to_token": {"*": 265},
            "string_to_param": {"*": torch.zeros(6, 768)},
            "name": "bad-hands",
            "step": 1500,
            "sd_checkpoint": "e1441589a6",
            "sd_checkpoint_name": "v1-5-pruned",
        },
        path,
    )
    header = read_pickle_header(path)
    assert _shapes(path) == {"string_to_param.*": ("F32", (6, 768))}
    assert header.extras["name"] == "bad-hands"
    assert header.extras["step"] == 1500
    assert header.extras["string_to_token"] == {"*": 265}


def test_hypernetwork_int_keys_become_name_segments(tmp_path: Path) -> None:
    layer = {"linear.0.weight": torch.zeros(1536, 768), "linear.0.bias": torch.zeros(1536)}
    path = tmp_path / "hn.pt"
    torch.save({768: [layer, layer], "layer_structure": [1, 2, 1], "name": "hn"}, path)
    header = read_pickle_header(path)
    assert set(header.tensors) == {
        "768.0.linear.0.weight", "768.0.linear.0.bias",
        "768.1.linear.0.weight", "768.1.linear.0.bias",
    }  # fmt: skip
    assert header.extras["layer_structure"] == [1, 2, 1]


def test_plain_pickle_without_torch_magic_is_read_as_data(tmp_path: Path) -> None:
    path = tmp_path / "numbers.pt"
    path.write_bytes(pickle.dumps({"step": 3, "names": ["a", "b"]}, protocol=2))
    header = read_pickle_header(path)
    assert header.tensors == {}
    assert header.extras == {"step": 3, "names": ["a", "b"]}


def test_zip_without_data_pkl_is_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "photos.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photos/cat.jpg", b"\xff\xd8")
    with pytest.raises(PickleFormatError, match=r"without data\.pkl"):
        read_pickle_header(path)


def test_truncated_pickle_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "cut.pth"
    torch.save({"w": torch.zeros(4)}, path, _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(PickleFormatError, match="malformed pickle at byte"):
        read_pickle_header(path)


def test_broken_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.ckpt"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(PickleFormatError, match="zip"):
        read_pickle_header(path)


def test_self_referencing_list_is_cut_short_not_looped(tmp_path: Path) -> None:
    loop: list = []
    loop.append(loop)
    path = tmp_path / "loop.pt"
    path.write_bytes(pickle.dumps({"x": loop}, protocol=2))
    assert read_pickle_header(path).tensors == {}
