"""A full-size SD 1.5 architecture through the bundled config: the path a real checkpoint takes.

The weights are random (built here from the bundled config, saved in the A1111 single-file
layout in fp16) and cached between runs under $PANTRY_TEST_CACHE or ``.pantry-test-cache/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers")

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("PANTRY_TEST_CACHE") or REPO / ".pantry-test-cache")
FILE_NAME = "sd15_random_weights_fp16.safetensors"


def full_size_sd1() -> Path:
    path = CACHE / FILE_NAME
    if path.is_file():
        return path
    import torch
    from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from pantry.render.bundled import config_dir, load_tokenizer
    from pantry.render.ldm_export import save_single_file
    from pantry.render.tiny import _scheduler

    config = config_dir("sd1")
    torch.manual_seed(0)
    pipe = StableDiffusionPipeline(
        vae=AutoencoderKL.from_config(AutoencoderKL.load_config(config / "vae")),
        text_encoder=CLIPTextModel(CLIPTextConfig.from_pretrained(config / "text_encoder")),
        tokenizer=load_tokenizer(),
        unet=UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(config / "unet")),
        scheduler=_scheduler("sd1"),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = save_single_file(pipe, CACHE / (FILE_NAME + ".partial"), dtype=torch.float16)
    partial.replace(path)  # a run killed while writing leaves no half file under the real name
    return path


@pytest.mark.slow
def test_full_size_sd15_single_file_renders_through_the_bundled_config():
    from pantry.render import Renderer, RenderJob

    checkpoint = full_size_sd1()
    job = RenderJob(
        checkpoint=checkpoint,
        base="sd1",
        prompt="a lighthouse",
        negative_prompt="blurry",
        width=64,
        height=64,
        steps=2,
        sampler="DPM++ 2M",
        scheduler="karras",
        clip_skip=2,
        seed=3,
    )
    renderer = Renderer(device="cpu", dtype="fp32")
    result = renderer.render(job)
    assert result.loaded_checkpoint and not job.sidecar_config.exists()
    assert result.image.size == (64, 64)
    assert np.asarray(result.image).std() > 0
    unet = renderer._loaded.pipe.unet
    assert sum(p.numel() for p in unet.parameters()) == 859_520_964  # SD 1.5's UNet
