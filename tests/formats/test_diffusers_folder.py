"""Diffusers folders: one asset, read from model_index.json, configs and weight headers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

from pantry.errors import UnreadableFileError
from pantry.formats import is_diffusers_component_folder, is_diffusers_folder, read_header
from tests.fixtures.modelfiles import DIFFUSERS_PIPELINES

MODEL_INDEX = DIFFUSERS_PIPELINES["sd15"][0]  # the published SD1.5 model_index.json


def _json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def _weights(path: Path, tensors: dict[str, tuple[int, ...]], dtype=np.float32) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: np.zeros(v, dtype=dtype) for k, v in tensors.items()}, str(path))


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    root = tmp_path / "stable-diffusion-v1-5"
    _json(root / "model_index.json", MODEL_INDEX)
    _json(root / "scheduler" / "scheduler_config.json", {"_class_name": "PNDMScheduler"})
    _json(root / "tokenizer" / "tokenizer_config.json", {"model_max_length": 77})
    _json(root / "feature_extractor" / "preprocessor_config.json", {"crop_size": 224})
    _json(
        root / "unet" / "config.json",
        {"_class_name": "UNet2DConditionModel", "cross_attention_dim": 768},
    )
    _weights(
        root / "unet" / "diffusion_pytorch_model.safetensors", {"conv_in.weight": (320, 4, 3, 3)}
    )
    _weights(root / "unet" / "diffusion_pytorch_model.fp16.safetensors",
             {"conv_in.weight": (320, 4, 3, 3)}, np.float16)  # fmt: skip
    _json(root / "vae" / "config.json", {"_class_name": "AutoencoderKL", "latent_channels": 4})
    _weights(
        root / "vae" / "diffusion_pytorch_model.safetensors",
        {"decoder.conv_in.weight": (512, 4, 3, 3)},
    )
    _json(root / "text_encoder" / "config.json", {"architectures": ["CLIPTextModel"]})
    # A sharded text encoder, as transformers saves large models.
    shards = {"model-00001-of-00002.safetensors": {"a.weight": (4, 4)},
              "model-00002-of-00002.safetensors": {"b.weight": (2,)}}  # fmt: skip
    for name, tensors in shards.items():
        _weights(root / "text_encoder" / name, tensors)
    weight_map = {t: name for name, tensors in shards.items() for t in tensors}
    _json(
        root / "text_encoder" / "model.safetensors.index.json",
        {"metadata": {"total_size": 72}, "weight_map": weight_map},
    )
    return root


def test_pipeline_folder_is_one_diffusers_asset(pipeline: Path) -> None:
    header = read_header(pipeline)
    assert is_diffusers_folder(pipeline)
    assert header.format == "diffusers"
    assert set(header.components) == {"unet", "vae", "text_encoder"}
    assert header.warnings == []


def test_configs_are_parsed_per_component(pipeline: Path) -> None:
    configs = read_header(pipeline).configs
    assert configs["model_index"]["_class_name"] == "StableDiffusionPipeline"
    assert configs["unet"]["cross_attention_dim"] == 768
    assert configs["scheduler"]["_class_name"] == "PNDMScheduler"
    assert configs["tokenizer"]["model_max_length"] == 77
    assert "safety_checker" not in configs


def test_default_weights_win_over_the_fp16_variant(pipeline: Path) -> None:
    unet = read_header(pipeline).components["unet"]
    assert unet.path.name == "diffusion_pytorch_model.safetensors"
    assert unet.tensors["conv_in.weight"].dtype == "F32"


def test_fp16_variant_is_read_when_it_is_the_only_weights(pipeline: Path) -> None:
    (pipeline / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    unet = read_header(pipeline).components["unet"]
    assert unet.tensors["conv_in.weight"].dtype == "F16"


def test_sharded_component_merges_every_shard(pipeline: Path) -> None:
    encoder = read_header(pipeline).components["text_encoder"]
    assert {n: t.shape for n, t in encoder.tensors.items()} == {
        "a.weight": (4, 4),
        "b.weight": (2,),
    }


def test_file_size_totals_the_files_read(pipeline: Path) -> None:
    read = [
        "model_index.json", "scheduler/scheduler_config.json", "unet/config.json",
        "tokenizer/tokenizer_config.json", "feature_extractor/preprocessor_config.json",
        "unet/diffusion_pytorch_model.safetensors", "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors", "text_encoder/config.json",
        "text_encoder/model.safetensors.index.json",
        "text_encoder/model-00001-of-00002.safetensors",
        "text_encoder/model-00002-of-00002.safetensors",
    ]  # fmt: skip
    assert read_header(pipeline).file_size == sum((pipeline / p).stat().st_size for p in read)


def test_broken_component_is_a_warning_not_a_crash(pipeline: Path) -> None:
    (pipeline / "vae" / "diffusion_pytorch_model.safetensors").write_bytes(b"\x05" + b"\x00" * 7)
    header = read_header(pipeline)
    assert "vae" not in header.components
    assert "unet" in header.components
    assert len(header.warnings) == 1
    assert header.warnings[0].startswith("vae: ")
    assert "runs past the end of the file" in header.warnings[0]


def test_missing_component_folder_is_a_warning(pipeline: Path) -> None:
    for child in (pipeline / "vae").iterdir():
        child.unlink()
    (pipeline / "vae").rmdir()
    header = read_header(pipeline)
    assert header.warnings == ["vae: listed in model_index.json but the folder is missing"]


def test_missing_shard_is_a_warning(pipeline: Path) -> None:
    (pipeline / "text_encoder" / "model-00002-of-00002.safetensors").unlink()
    header = read_header(pipeline)
    assert any("model-00002-of-00002.safetensors is missing" in w for w in header.warnings)
    assert set(header.components["text_encoder"].tensors) == {"a.weight"}


def test_unsafe_pickle_in_a_component_marks_the_whole_folder(pipeline: Path) -> None:
    vae = pipeline / "vae"
    (vae / "diffusion_pytorch_model.safetensors").unlink()
    torch.save({"w": torch.zeros(1), "x": print}, vae / "diffusion_pytorch_model.bin")
    header = read_header(pipeline)
    assert header.components["vae"].format == "pickle"
    assert header.unsafe_globals == ["builtins.print"]


def test_broken_model_index_is_an_error(pipeline: Path) -> None:
    (pipeline / "model_index.json").write_text("{not json")
    with pytest.raises(UnreadableFileError, match=r"model_index\.json: not valid JSON"):
        read_header(pipeline)


def test_standalone_component_folder_is_one_asset_keyed_dot(tmp_path: Path) -> None:
    vae = tmp_path / "sdxl-vae-fp16-fix"
    _json(vae / "config.json", {"_class_name": "AutoencoderKL", "force_upcast": False})
    _weights(
        vae / "diffusion_pytorch_model.safetensors", {"decoder.conv_in.weight": (512, 4, 3, 3)}
    )
    header = read_header(vae)
    assert is_diffusers_component_folder(vae) and not is_diffusers_folder(vae)
    assert set(header.components) == {"."}
    assert header.configs["."]["force_upcast"] is False


def test_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "config.json").write_text("{}")
    with pytest.raises(UnreadableFileError, match="is a directory"):
        read_header(tmp_path / "notes")
