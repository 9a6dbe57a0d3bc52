"""Miniatures of the pickle checkpoints Stable Diffusion users really have, each written by
torch.save (or pickle) the way the tool that made the original writes it."""

from __future__ import annotations

import io
import pickle
import sys
import tarfile
import types
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from pantry.errors import PickleFormatError
from pantry.formats.pickle_reader import read_pickle_header


def _shapes(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    return {name: (t.dtype, t.shape) for name, t in read_pickle_header(path).tensors.items()}


@pytest.fixture
def lightning(monkeypatch: pytest.MonkeyPatch) -> type:
    """A stand-in ``pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint``.

    pickle names a class by its module and qualified name, so this pickles exactly as the
    real callback does in the SD 1.x release checkpoints.
    """
    name = "pytorch_lightning.callbacks.model_checkpoint"
    module = types.ModuleType(name)

    class ModelCheckpoint:
        def __init__(self) -> None:
            self.monitor = None
            self.save_top_k = -1
            self.best_model_path = ""
            self.best_model_score = None

    ModelCheckpoint.__module__ = name
    ModelCheckpoint.__qualname__ = "ModelCheckpoint"
    module.ModelCheckpoint = ModelCheckpoint
    for parent in ("pytorch_lightning", "pytorch_lightning.callbacks"):
        monkeypatch.setitem(sys.modules, parent, types.ModuleType(parent))
    monkeypatch.setitem(sys.modules, name, module)
    return ModelCheckpoint


def _sd1_state_dict() -> OrderedDict:
    return OrderedDict(
        [
            ("betas", torch.zeros(1000)),
            ("model.diffusion_model.input_blocks.0.0.weight", torch.zeros(320, 4, 3, 3)),
            ("model.diffusion_model.out.2.weight", torch.zeros(4, 320, 3, 3)),
            ("first_stage_model.encoder.conv_in.weight", torch.zeros(128, 3, 3, 3)),
            ("first_stage_model.quant_conv.weight", torch.zeros(8, 8, 1, 1)),
            ("cond_stage_model.transformer.text_model.embeddings.token_embedding.weight",
             torch.zeros(49408, 768, dtype=torch.float16)),
            ("cond_stage_model.transformer.text_model.embeddings.position_ids",
             torch.arange(77).unsqueeze(0)),
            ("model_ema.num_updates", torch.tensor(0, dtype=torch.int32)),
        ]
    )  # fmt: skip


def test_sd1_release_checkpoint_with_lightning_callback_key(tmp_path: Path, lightning) -> None:
    # Lightning 1.x keys callback states by the callback class; the class pickles as a global.
    path = tmp_path / "sd-v1-4.ckpt"
    torch.save(
        {
            "epoch": 6,
            "global_step": 470000,
            "pytorch-lightning_version": "1.4.2",
            "state_dict": _sd1_state_dict(),
            "callbacks": {lightning: {"monitor": None, "best_model_score": None}},
            "optimizer_states": [],
            "lr_schedulers": [],
        },
        path,
    )
    header = read_pickle_header(path)
    assert "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint" in header.pickle_globals
    assert header.unsafe_globals == []
    assert header.tensors["model.diffusion_model.input_blocks.0.0.weight"].shape == (320, 4, 3, 3)
    assert header.tensors["model_ema.num_updates"].dtype == "I32"
    assert len(header.tensors) == 8  # nothing from callbacks or optimizer state
    assert header.extras["global_step"] == 470000
    assert header.extras["pytorch-lightning_version"] == "1.4.2"
    assert header.extras["optimizer_states"] == []


def test_checkpoint_callback_instance_and_numpy_counters(tmp_path: Path, lightning) -> None:
    callback = lightning()
    callback.best_model_score = np.float64(0.125)
    path = tmp_path / "finetune.ckpt"
    torch.save(
        {
            "state_dict": _sd1_state_dict(),
            "global_step": np.int64(840000),
            "epoch": np.int32(3),
            "callbacks": {"ModelCheckpoint": callback},
        },
        path,
    )
    header = read_pickle_header(path)
    assert header.unsafe_globals == []
    assert header.extras["global_step"] == 840000
    assert header.extras["epoch"] == 3
    assert "numpy.dtype" in header.pickle_globals


def test_numpy_scalar_in_a_python2_era_protocol_2_pickle(tmp_path: Path) -> None:
    path = tmp_path / "old.pt"
    path.write_bytes(pickle.dumps({"best_score": np.float32(0.5), "step": np.int64(-7)}, 2))
    header = read_pickle_header(path)
    assert header.extras == {"best_score": 0.5, "step": -7}
    assert header.unsafe_globals == []


def test_a1111_textual_inversion_with_checkpoint_provenance(tmp_path: Path) -> None:
    path = tmp_path / "easynegative.pt"
    torch.save(
        {
            "string_to_token": {"*": 265},
            "string_to_param": {"*": torch.zeros(8, 768, dtype=torch.float16)},
            "name": "easynegative",
            "step": 4500,
            "sd_checkpoint": "925997e9",
            "sd_checkpoint_name": "animefull-final-pruned",
        },
        path,
    )
    header = read_pickle_header(path)
    assert _shapes(path) == {"string_to_param.*": ("F16", (8, 768))}
    assert header.extras["sd_checkpoint_name"] == "animefull-final-pruned"
    assert header.unsafe_globals == []


def test_original_textual_inversion_keeps_vectors_in_a_parameter_dict(tmp_path: Path) -> None:
    # rinongal/textual_inversion saves an nn.ParameterDict, pickled whole.
    params = torch.nn.ParameterDict({"*": torch.nn.Parameter(torch.zeros(1, 768))})
    path = tmp_path / "embeddings_gs-6099.pt"
    torch.save({"string_to_token": {"*": torch.tensor(265)}, "string_to_param": params}, path)
    header = read_pickle_header(path)
    assert _shapes(path) == {
        "string_to_token.*": ("I64", ()),
        "string_to_param.*": ("F32", (1, 768)),
    }
    assert header.unsafe_globals == []


def test_a1111_hypernetwork(tmp_path: Path) -> None:
    def layer(width: int) -> dict:
        return OrderedDict(
            [
                ("linear.0.weight", torch.zeros(width * 2, width)),
                ("linear.0.bias", torch.zeros(width * 2)),
                ("linear.1.weight", torch.zeros(width, width * 2)),
                ("linear.1.bias", torch.zeros(width)),
            ]
        )

    state: dict = {width: [layer(width), layer(width)] for width in (320, 640, 768, 1024, 1280)}
    state.update(
        {
            "step": 3000,
            "name": "anime_3",
            "layer_structure": [1, 2, 1],
            "activation_func": "linear",
            "is_layer_norm": False,
            "weight_initialization": "Normal",
            "use_dropout": False,
            "sd_checkpoint": "925997e9",
            "sd_checkpoint_name": "animefull-final-pruned",
        }
    )
    path = tmp_path / "anime_3.pt"
    torch.save(state, path)
    header = read_pickle_header(path)
    assert len(header.tensors) == 5 * 2 * 4
    assert header.tensors["1280.1.linear.1.weight"].shape == (1280, 2560)
    assert header.extras["layer_structure"] == [1, 2, 1]
    assert header.extras["activation_func"] == "linear"
    assert not any(key.isdigit() for key in header.extras)


def test_vae_pt_under_state_dict(tmp_path: Path) -> None:
    path = tmp_path / "kl-f8-anime2.ckpt"
    torch.save(
        {
            "state_dict": OrderedDict(
                [
                    ("encoder.conv_in.weight", torch.zeros(128, 3, 3, 3)),
                    ("decoder.conv_out.weight", torch.zeros(3, 128, 3, 3)),
                    ("quant_conv.weight", torch.zeros(8, 8, 1, 1)),
                    ("post_quant_conv.weight", torch.zeros(4, 4, 1, 1)),
                    ("loss.logvar", torch.zeros(())),
                ]
            ),
            "global_step": 0,
        },
        path,
    )
    assert _shapes(path)["post_quant_conv.weight"] == ("F32", (4, 4, 1, 1))
    assert _shapes(path)["loss.logvar"] == ("F32", ())


def test_diffusers_attention_processor_lora_bin(tmp_path: Path) -> None:
    prefix = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor"
    path = tmp_path / "pytorch_lora_weights.bin"
    torch.save(
        {
            f"{prefix}.to_q_lora.down.weight": torch.zeros(4, 320),
            f"{prefix}.to_q_lora.up.weight": torch.zeros(320, 4),
        },
        path,
    )
    assert _shapes(path) == {
        f"{prefix}.to_q_lora.down.weight": ("F32", (4, 320)),
        f"{prefix}.to_q_lora.up.weight": ("F32", (320, 4)),
    }


def test_controlnet_pth_is_a_flat_control_model_dict(tmp_path: Path) -> None:
    path = tmp_path / "control_sd15_canny.pth"
    torch.save(
        {
            "control_model.input_hint_block.0.weight": torch.zeros(16, 3, 3, 3),
            "control_model.input_blocks.0.0.weight": torch.zeros(320, 4, 3, 3),
            "control_model.zero_convs.0.0.weight": torch.zeros(320, 320, 1, 1),
            "control_model.middle_block_out.0.weight": torch.zeros(1280, 1280, 1, 1),
        },
        path,
    )
    assert set(_shapes(path)) == {
        "control_model.input_hint_block.0.weight",
        "control_model.input_blocks.0.0.weight",
        "control_model.zero_convs.0.0.weight",
        "control_model.middle_block_out.0.weight",
    }


def test_real_esrgan_params_ema_nesting(tmp_path: Path) -> None:
    path = tmp_path / "RealESRGAN_x4plus.pth"
    torch.save(
        {
            "params_ema": OrderedDict(
                [
                    ("conv_first.weight", torch.zeros(64, 3, 3, 3)),
                    ("body.0.rdb1.conv1.weight", torch.zeros(32, 64, 3, 3)),
                    ("conv_last.weight", torch.zeros(3, 64, 3, 3)),
                ]
            )
        },
        path,
    )
    assert _shapes(path) == {
        "params_ema.conv_first.weight": ("F32", (64, 3, 3, 3)),
        "params_ema.body.0.rdb1.conv1.weight": ("F32", (32, 64, 3, 3)),
        "params_ema.conv_last.weight": ("F32", (3, 64, 3, 3)),
    }


@pytest.mark.parametrize("zip_format", [True, False])
def test_views_of_one_storage_each_keep_their_own_shape(tmp_path: Path, zip_format) -> None:
    qkv = torch.zeros(3 * 320, 320)
    q, k, v = qkv.chunk(3)
    path = tmp_path / "fused.pt"
    state = {"q": q, "k": k, "v": v[:10], "qkv": qkv, "t": qkv.t(), "row": qkv[5]}
    torch.save(state, path, _use_new_zipfile_serialization=zip_format)
    assert _shapes(path) == {
        "q": ("F32", (320, 320)),
        "k": ("F32", (320, 320)),
        "v": ("F32", (10, 320)),
        "qkv": ("F32", (960, 320)),
        "t": ("F32", (320, 960)),
        "row": ("F32", (320,)),
    }


@pytest.mark.parametrize("zip_format", [True, False])
def test_storage_dtypes_old_and_new(tmp_path: Path, zip_format) -> None:
    # bf16/fp16/int64 have legacy typed storages; uint16 and fp8 only exist as
    # UntypedStorage with the dtype passed to _rebuild_tensor_v3.
    dtypes = {
        "bf16": (torch.bfloat16, "BF16"),
        "fp16": (torch.float16, "F16"),
        "i64": (torch.int64, "I64"),
        "u8": (torch.uint8, "U8"),
        "bool": (torch.bool, "BOOL"),
        "u16": (torch.uint16, "U16"),
        "f8": (torch.float8_e5m2, "F8_E5M2"),
    }
    path = tmp_path / "mixed.pt"
    torch.save({k: torch.zeros(2, 3, dtype=d) for k, (d, _) in dtypes.items()}, path,
               _use_new_zipfile_serialization=zip_format)  # fmt: skip
    header = read_pickle_header(path)
    assert {k: t.dtype for k, t in header.tensors.items()} == {k: n for k, (_, n) in dtypes.items()}
    assert header.unsafe_globals == []


class _WithMetadata:
    """Pickles as _rebuild_tensor_v2 with torch 2's trailing metadata argument."""

    def __init__(self, tensor: torch.Tensor):
        self.tensor = tensor

    def __reduce__(self):
        storage = torch.storage.TypedStorage(
            wrap_storage=self.tensor.untyped_storage(), dtype=self.tensor.dtype, _internal=True
        )
        args = (storage, 0, tuple(self.tensor.shape), self.tensor.stride(), False,
                OrderedDict(), {"note": 1})  # fmt: skip
        return torch._utils._rebuild_tensor_v2, args


class _FromNumpy:
    """Pickles the way torch saves tensors of storage-less devices (XLA, MTIA)."""

    def __reduce__(self):
        data = np.zeros((2, 5), dtype=np.float32)
        return torch._utils._rebuild_device_tensor_from_numpy, (data, torch.float16, "xla", False)


def test_less_common_tensor_rebuilders(tmp_path: Path) -> None:
    path = tmp_path / "rebuilders.pt"
    torch.save(
        {
            "meta": _WithMetadata(torch.zeros(4, 2)),
            "xla": _FromNumpy(),
            "sparse": torch.zeros(6, 7).to_sparse(),
            "device": torch.device("cpu"),
        },
        path,
    )
    header = read_pickle_header(path)
    assert _shapes(path) == {
        "meta": ("F32", (4, 2)),
        "xla": ("F16", (2, 5)),
        "sparse": ("F32", (6, 7)),
    }
    assert "torch.device" in header.pickle_globals
    assert "torch.serialization._get_layout" in header.pickle_globals
    assert header.unsafe_globals == []


def test_whole_module_is_flagged_but_its_weights_are_listed(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8))
    path = tmp_path / "RealESRGAN_model.pth"
    torch.save(model, path)
    header = read_pickle_header(path)
    assert header.unsafe_globals == [
        "torch.nn.modules.container.Sequential",
        "torch.nn.modules.conv.Conv2d",
        "torch.nn.modules.batchnorm.BatchNorm2d",
    ]
    assert set(header.tensors) == set(model.state_dict())
    assert header.tensors["1.num_batches_tracked"].dtype == "I64"
    assert header.tensors["0.weight"].shape == (8, 3, 3, 3)


@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("zip_format", [True, False])
def test_large_state_dicts_use_long_memo_and_frames(tmp_path: Path, protocol, zip_format) -> None:
    # More than 256 memo entries needs LONG_BINPUT/LONG_BINGET; protocols 4 and 5 add FRAME
    # and MEMOIZE. Shared dtype/storage globals are fetched back from the memo each time.
    state = OrderedDict((f"blocks.{i}.weight", torch.zeros(1, i % 7 + 1)) for i in range(1200))
    path = tmp_path / "big.pt"
    torch.save(state, path, pickle_protocol=protocol, _use_new_zipfile_serialization=zip_format)
    shapes = _shapes(path)
    assert len(shapes) == 1200
    assert shapes["blocks.1199.weight"] == ("F32", (1, 3))  # 1199 % 7 + 1


def test_module_state_dict_carries_metadata_through_build(tmp_path: Path) -> None:
    # state_dict() is an OrderedDict with a _metadata attribute: REDUCE, SETITEMS, then BUILD.
    model = torch.nn.Linear(4, 2)
    path = tmp_path / "linear.pt"
    torch.save(model.state_dict(), path)
    assert _shapes(path) == {"weight": ("F32", (2, 4)), "bias": ("F32", (2,))}


@pytest.mark.parametrize("protocol", [0, 1])
def test_text_protocol_pickles(tmp_path: Path, protocol) -> None:
    path = tmp_path / "old.pt"
    data = OrderedDict([("name", "x"), ("sizes", (1, 2)), ("flags", {1, 2})])
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    header = read_pickle_header(path)
    assert header.extras["name"] == "x"
    assert header.extras["sizes"] == [1, 2]
    assert header.unsafe_globals == []


def test_python2_builtin_names_map_to_python3(tmp_path: Path) -> None:
    # What Python 2's cPickle wrote for {"classes": set([...])}: GLOBAL "__builtin__ set".
    path = tmp_path / "py2.pt"
    path.write_bytes(b"\x80\x02}q\x00U\x07classesq\x01c__builtin__\nset\n]q\x02K\x01a\x85Rs.")
    header = read_pickle_header(path)
    assert header.pickle_globals == ["builtins.set"]
    assert header.unsafe_globals == []
    assert header.extras == {"classes": [1]}


def test_torch_save_with_custom_archive_folder(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    torch.save({"w": torch.zeros(3)}, path)
    renamed = tmp_path / "renamed.bin"
    # Re-pack under another folder, deflated, as zip tools do when users repackage.
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(renamed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename.replace("model/", "pytorch_model/", 1), src.read(info))
    assert _shapes(renamed) == {"w": ("F32", (3,))}


def test_pre_0_4_tar_checkpoint_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "ancient.pth"
    with tarfile.open(path, "w") as archive:
        data = pickle.dumps({"protocol_version": 1001}, protocol=2)
        info = tarfile.TarInfo("sys_info")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with pytest.raises(PickleFormatError, match="tar-format torch checkpoint"):
        read_pickle_header(path)
