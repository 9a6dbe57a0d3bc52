"""What the renderer refuses, and that the message says why in the user's terms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pantry.errors import RenderError
from pantry.render import LoraJob, RenderJob

SIZE = 64


def job(models, **changes) -> RenderJob:
    values = dict(
        checkpoint=models.single,
        base="sd1",
        prompt="a lighthouse at dusk",
        width=SIZE,
        height=SIZE,
        steps=2,
        sampler="Euler",
        seed=3,
    )
    values.update(changes)
    return RenderJob(**values)


def pixels(result) -> np.ndarray:
    return np.asarray(result.image).astype(int)


def adapters(renderer) -> dict:
    return renderer._loaded.pipe.get_list_adapters()


@pytest.mark.parametrize(("fmt", "name"), [("loha", "LyCORIS LoHa"), ("lokr", "LyCORIS LoKr")])
def test_lycoris_lora_is_refused_by_its_format_name_and_leaves_nothing_loaded(
    models, renderer, fmt, name
):
    base = pixels(renderer.render(job(models)))

    with pytest.raises(RenderError, match=f"diffusers cannot apply {name} weights"):
        renderer.render(job(models, loras=[LoraJob(getattr(models, fmt), 1.0)]))

    assert not any(adapters(renderer).values())
    assert (pixels(renderer.render(job(models))) == base).all()


def test_kohya_text_encoder_lora_diffusers_cannot_type_is_refused_in_plain_words(models, renderer):
    with pytest.raises(RenderError, match="could not recognise its text-encoder weights"):
        renderer.render(job(models, loras=[LoraJob(models.kohya_te_qkv, 1.0)]))
    assert not any(adapters(renderer).values())


def test_a_kohya_lora_still_loads_and_changes_the_image(models, renderer):
    base = pixels(renderer.render(job(models)))
    with_lora = pixels(renderer.render(job(models, loras=[LoraJob(models.kohya, 1.0)])))
    assert (with_lora != base).any()


@pytest.mark.parametrize(("width", "height", "hint"), [(70, 64, "64x64"), (64, 60, "64x56")])
def test_size_off_the_multiple_of_8_is_refused_before_anything_loads(tmp_path, width, height, hint):
    from pantry.render import Renderer

    absent = RenderJob(checkpoint=tmp_path / "absent.safetensors", base="sd1")
    absent.width, absent.height = width, height
    with pytest.raises(RenderError, match=f"multiples of 8; try {hint}"):
        Renderer(device="cpu", dtype="fp32").render(absent)


def test_checkpoint_without_vae_says_to_name_one(models):
    from pantry.render import Renderer

    with pytest.raises(RenderError, match=r"holds no VAE weights; name a VAE in the recipe"):
        Renderer(device="cpu", dtype="fp32").render(job(models, checkpoint=models.no_vae))


def test_nan_in_fp32_does_not_advise_fp32(models):
    from pantry.render import Renderer

    renderer = Renderer(device="cpu", dtype="fp32")
    renderer.render(job(models))
    with torch.no_grad():
        next(renderer._loaded.pipe.unet.conv_in.parameters()).fill_(float("nan"))

    with pytest.raises(RenderError, match="NaN even in fp32") as caught:
        renderer.render(job(models))
    assert "--dtype fp32" not in str(caught.value)
