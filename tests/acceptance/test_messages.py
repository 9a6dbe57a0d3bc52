"""What pantry says about files users really meet: failed downloads, bare unsafe pickles,
checkpoints without a VAE, LoRAs whose alpha lives only in tensor data."""

from __future__ import annotations

import json
import os
import pickle

from tests.acceptance.realfiles import kohya_sd1_lora, sparse_safetensors
from tests.cli.support import assert_one_line_error, pantry


def test_a_git_lfs_pointer_is_named_as_such(tmp_path):
    # what `git clone` of a Hugging Face repo leaves without git-lfs installed
    pointer = tmp_path / "sd_xl_base_1.0.safetensors"
    pointer.write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6119b9ec5f7e2\n"
        "size 6938078334\n"
    )
    line = assert_one_line_error(pantry("inspect", pointer), 2, pointer)
    assert "Git LFS pointer" in line


def test_an_error_page_saved_as_a_checkpoint_is_called_a_text_file(tmp_path):
    page = tmp_path / "realisticVision.ckpt"
    page.write_text("<!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>")
    line = assert_one_line_error(pantry("inspect", page), 2, page)
    assert "the file is text, starting '<!DOCTYPE html>'" in line


class _Payload:
    def __reduce__(self):
        return (os.system, ("true",))  # pickled, never run


def test_an_unsafe_pickle_without_tensors_says_so_in_inspect_and_show(tmp_path):
    path = tmp_path / "models" / "free_model.ckpt"
    path.parent.mkdir()
    path.write_bytes(pickle.dumps({"state_dict": {}, "hook": _Payload()}, protocol=2))
    report = json.loads(pantry("inspect", path, "--json").stdout)[0]
    assert report["reason"] == "the file holds no tensors"
    assert report["unsafe"] and report["unsafe_globals"] == ["posix.system"]

    catalog = tmp_path / "catalog.db"
    assert pantry("scan", tmp_path / "models", "--catalog", catalog).exit_code == 0
    shown = pantry("show", "free_model", "--catalog", catalog).stdout
    assert "UNSAFE" in shown and "posix.system" in shown
    assert "the file holds no tensors" in shown


def test_show_tells_a_checkpoint_lacks_its_vae(tmp_path):
    # the SD1 single-file layout with the VAE (first_stage_model.*) stripped out
    models = tmp_path / "models"
    sparse_safetensors(
        models / "noVAE_pruned.safetensors",
        {
            "model.diffusion_model.input_blocks.0.0.weight": ("F16", (320, 4, 3, 3)),
            "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (
                "F16",
                (320, 768),
            ),
            "model.diffusion_model.out.2.weight": ("F16", (4, 320, 3, 3)),
            "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight": (
                "F16",
                (49408, 768),
            ),
        },
    )
    catalog = tmp_path / "catalog.db"
    assert pantry("scan", models, "--catalog", catalog).exit_code == 0
    lines = pantry("show", "noVAE_pruned", "--catalog", catalog).stdout.splitlines()
    assert any(line.split() == ["lacks", "vae"] for line in lines), lines


def test_a_lora_without_stated_alpha_never_prints_none(tmp_path):
    # kohya keeps alpha as a tensor; with no ss_network_alpha metadata the header has none
    models = tmp_path / "models"
    kohya_sd1_lora(models / "style.safetensors")
    inspected = pantry("inspect", models / "style.safetensors").stdout
    assert "lora: kohya, rank 4, 6 modules" in inspected
    catalog = tmp_path / "catalog.db"
    assert pantry("scan", models, "--catalog", catalog).exit_code == 0
    shown = pantry("show", "style", "--catalog", catalog).stdout
    assert "None" not in shown and "kohya, rank 4, 6 modules" in shown
