"""Tiny models for the acceptance tests, built once per run; the fake Hub's fixtures."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("diffusers")

from tests.acceptance_render.models import tiny_pipeline, write_lora, write_single_file
from tests.hub.conftest import catalog, fake_hub, repo, root  # noqa: F401 (fixtures)


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    directory = tmp_path_factory.mktemp("acceptance-models")
    pipe = tiny_pipeline()
    folder = directory / "tiny_folder"
    pipe.save_pretrained(folder)
    return SimpleNamespace(
        pipe=pipe,
        folder=folder,
        single=write_single_file(pipe, folder, directory / "tiny.safetensors"),
        no_vae=write_single_file(pipe, folder, directory / "tiny_novae.safetensors", True),
        kohya=write_lora(pipe, directory / "kohya.safetensors", "kohya"),
        kohya_te_qkv=write_lora(pipe, directory / "kohya_te_qkv.safetensors", "kohya_te_qkv"),
        loha=write_lora(pipe, directory / "loha.safetensors", "loha"),
        lokr=write_lora(pipe, directory / "lokr.safetensors", "lokr"),
    )


@pytest.fixture(scope="session")
def renderer():
    from pantry.render import Renderer

    return Renderer(device="cpu", dtype="fp32")
