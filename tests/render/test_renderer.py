"""The renderer on tiny random-weight models: reproducibility, LoRAs, VAEs, loading paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pantry.errors import RenderError
from pantry.render import EmbeddingJob, LoraJob, RenderJob
from pantry.render.renderer import batch_order, decode
from tests.render.models import write_embedding


def job_for(model, single_file: bool = True, **changes) -> RenderJob:
    settings = dict(
        checkpoint=model.single_file if single_file else model.folder,
        checkpoint_format="safetensors" if single_file else "diffusers",
        base=model.base,
        prompt="a photo of a lighthouse at dusk",
        negative_prompt="blurry",
        width=64,
        height=64,
        steps=3,
        sampler="Euler",
        seed=11,
    )
    settings.update(changes)
    return RenderJob(**settings)


def pixels(result) -> np.ndarray:
    return np.asarray(result.image, dtype=np.int16)


def test_same_seed_gives_the_same_image_and_another_seed_does_not(tiny, renderer):
    first = renderer.render(job_for(tiny["sd1"], sampler="Euler a"))
    again = renderer.render(job_for(tiny["sd1"], sampler="Euler a"))
    other = renderer.render(job_for(tiny["sd1"], sampler="Euler a", seed=12))
    assert np.array_equal(pixels(first), pixels(again))
    assert not np.array_equal(pixels(first), pixels(other))


def test_random_seed_is_reported_and_reproduces_the_image(tiny, renderer):
    drawn = renderer.render(job_for(tiny["sd1"], seed=-1))
    replay = renderer.render(job_for(tiny["sd1"], seed=drawn.seed))
    assert 0 <= drawn.seed < 2**32
    assert np.array_equal(pixels(drawn), pixels(replay))


@pytest.mark.parametrize("base", ["sd1", "sdxl"])
def test_single_file_renders_like_the_diffusers_folder(tiny, renderer, base):
    from_file = renderer.render(job_for(tiny[base], single_file=True))
    from_folder = renderer.render(job_for(tiny[base], single_file=False))
    assert from_file.image.size == (64, 64)
    assert np.array_equal(pixels(from_file), pixels(from_folder))


@pytest.mark.parametrize("base", ["sd1", "sdxl"])
def test_lora_at_weight_zero_is_the_base_image_and_at_one_changes_it(tiny, renderer, base):
    lora = tiny[f"lora_{base}"]
    plain = renderer.render(job_for(tiny[base]))
    at_zero = renderer.render(job_for(tiny[base], loras=[LoraJob(lora, 0.0)]))
    at_one = renderer.render(job_for(tiny[base], loras=[LoraJob(lora, 1.0)]))
    assert np.array_equal(pixels(plain), pixels(at_zero))
    assert np.abs(pixels(plain) - pixels(at_one)).mean() > 1.0


def test_loras_swap_without_reloading_the_checkpoint(tiny, renderer):
    lora = tiny["lora_sd1"]
    jobs = [
        job_for(tiny["sd1"], loras=[LoraJob(lora, 1.0)]),
        job_for(tiny["sd1"], loras=[LoraJob(lora, 0.5)]),
        job_for(tiny["sd1"]),
    ]
    results = [renderer.render(job) for job in jobs]
    assert [r.loaded_checkpoint for r in results[1:]] == [False, False]
    fresh = type(renderer)(device="cpu", dtype="fp32").render(job_for(tiny["sd1"]))
    # after the LoRA is unloaded, the image is the plain one again (float round-off at most)
    assert np.abs(pixels(results[2]) - pixels(fresh)).max() <= 1
    assert np.abs(pixels(results[0]) - pixels(results[1])).mean() > 0.5


def test_lora_that_patches_nothing_is_an_error(tiny, renderer):
    job = job_for(tiny["sd1"], loras=[LoraJob(tiny["lora_unmatched"], 1.0)])
    with pytest.raises(RenderError, match=r"unmatched\.safetensors: LoRA could not be applied"):
        renderer.render(job)


def test_lora_that_matches_only_part_of_its_modules_is_an_error(tiny, renderer):
    # diffusers only logs a warning for this, which the renderer hears while it keeps
    # diffusers quiet
    job = job_for(tiny["sd1"], loras=[LoraJob(tiny["lora_partial"], 1.0)])
    with pytest.raises(RenderError, match=r"partial\.safetensors: .*part of its weights match no"):
        renderer.render(job)


def test_lora_for_another_base_is_an_error(tiny, renderer):
    job = job_for(tiny["sd1"], loras=[LoraJob(tiny["lora_sdxl"], 1.0)])
    with pytest.raises(RenderError, match=r"kohya_sdxl\.safetensors: LoRA could not be applied"):
        renderer.render(job)


@pytest.mark.parametrize("which", [0, 1], ids=["vae-folder", "vae-single-file"])
def test_vae_override_changes_the_image_and_swaps_back(tiny, renderer, which):
    vae = tiny["vae_sd1"][which]
    fmt = "diffusers" if which == 0 else "safetensors"
    own = renderer.render(job_for(tiny["sd1"]))
    swapped = renderer.render(job_for(tiny["sd1"], vae=vae, vae_format=fmt))
    back = renderer.render(job_for(tiny["sd1"]))
    assert not swapped.loaded_checkpoint and not back.loaded_checkpoint
    assert np.abs(pixels(own) - pixels(swapped)).mean() > 1.0
    assert np.array_equal(pixels(own), pixels(back))


def test_checkpoint_first_loaded_with_a_vae_override_can_use_its_own_later(tiny):
    from pantry.render import Renderer

    fresh = Renderer(device="cpu", dtype="fp32")
    fresh.render(job_for(tiny["sd1"], vae=tiny["vae_sd1"][0], vae_format="diffusers"))
    own = fresh.render(job_for(tiny["sd1"]))
    reference = Renderer(device="cpu", dtype="fp32").render(job_for(tiny["sd1"]))
    assert np.array_equal(pixels(own), pixels(reference))


def test_clip_skip_changes_the_image(tiny, renderer):
    skip1 = renderer.render(job_for(tiny["sd1"], clip_skip=1))
    skip2 = renderer.render(job_for(tiny["sd1"], clip_skip=2))
    default = renderer.render(job_for(tiny["sd1"]))
    assert np.array_equal(pixels(skip1), pixels(default))
    assert not np.array_equal(pixels(skip1), pixels(skip2))


@pytest.mark.parametrize(
    "sampler,scheduler",
    [("DPM++ 2M", "karras"), ("DPM++ 2M SDE", None), ("DPM++ SDE Karras", None), ("DDIM", None)],
)
def test_samplers_render_finite_images(tiny, renderer, sampler, scheduler):
    result = renderer.render(job_for(tiny["sd1"], sampler=sampler, scheduler=scheduler))
    assert result.image.size == (64, 64)


def test_unknown_sampler_is_an_error_naming_it(tiny, renderer):
    with pytest.raises(RenderError, match="'DPM fast' has no diffusers equivalent"):
        renderer.render(job_for(tiny["sd1"], sampler="DPM fast"))


def test_nan_from_the_vae_is_reported(tiny):
    from pantry.render.tiny import tiny_sd1

    pipe = tiny_sd1(0)
    with torch.no_grad():
        next(pipe.vae.decoder.parameters()).fill_(float("nan"))
    with pytest.raises(RenderError, match="the VAE produced NaN"):
        decode(pipe, torch.zeros(1, 4, 8, 8))


def test_batch_order_groups_jobs_by_checkpoint(tiny):
    a, b = tiny["sd1"], tiny["sdxl"]
    jobs = [job_for(a), job_for(b), job_for(a, seed=2), job_for(b, seed=3)]
    assert [index for index, _ in batch_order(jobs)] == [0, 2, 1, 3]


def test_batch_loads_each_checkpoint_once(tiny):
    from pantry.render import Renderer

    jobs = [job_for(tiny["sd1"]), job_for(tiny["sdxl"]), job_for(tiny["sd1"], seed=5)]
    results = dict(Renderer(device="cpu", dtype="fp32").render_batch(jobs))
    assert [results[i].loaded_checkpoint for i in range(3)] == [True, True, False]


def test_unsupported_base_without_configs_is_an_error(tmp_path):
    from pantry.render import Renderer

    job = RenderJob(checkpoint=tmp_path / "flux.safetensors", base="flux")
    with pytest.raises(RenderError, match="cannot render base 'flux'"):
        Renderer(device="cpu").render(job)


@pytest.mark.parametrize("base,fmt,widths", [("sd1", "a1111_pt", [32]), ("sdxl", "sdxl", [32, 48])])
def test_embedding_word_renders_another_image_than_the_plain_word(
    tiny, renderer, tmp_path, base, fmt, widths
):
    path = write_embedding(tmp_path / "inkstyle", fmt, widths=widths, vectors=2)
    prompt = "a lighthouse, inkstyle"
    plain = renderer.render(job_for(tiny[base], prompt=prompt))
    styled = renderer.render(
        job_for(tiny[base], prompt=prompt, embeddings=[EmbeddingJob(path, "inkstyle")])
    )
    assert not styled.loaded_checkpoint
    assert np.abs(pixels(plain) - pixels(styled)).mean() > 1.0


def test_embedding_for_another_base_is_an_error(tiny, renderer, tmp_path):
    path = write_embedding(tmp_path / "sd1style", "safetensors", widths=[32], vectors=1)
    job = job_for(tiny["sdxl"], prompt="sd1style", embeddings=[EmbeddingJob(path, "sd1style")])
    with pytest.raises(RenderError, match=r"sd1style\.safetensors: "):
        renderer.render(job)


def test_emphasis_changes_the_image(tiny, renderer):
    plain = renderer.render(job_for(tiny["sd1"], prompt="a lighthouse at dusk"))
    weighted = renderer.render(job_for(tiny["sd1"], prompt="a (lighthouse:1.4) at dusk"))
    assert not np.array_equal(pixels(plain), pixels(weighted))


def test_exported_single_file_reads_back_tensor_for_tensor(tiny):
    from diffusers.loaders import single_file_utils as sfu
    from safetensors.torch import load_file

    pipe = tiny["sd1"].pipe
    ldm = load_file(str(tiny["sd1"].single_file))
    for converted, model in (
        (sfu.convert_ldm_unet_checkpoint(ldm, pipe.unet.config), pipe.unet),
        (sfu.convert_ldm_vae_checkpoint(ldm, pipe.vae.config), pipe.vae),
    ):
        state = model.state_dict()
        assert converted.keys() == state.keys()
        assert all(torch.equal(converted[k], state[k]) for k in state)


def resolved_with_embedding(embedding_asset, problem=None):
    from types import SimpleNamespace

    from pantry.recipes.model import Recipe, Resolution, ResolvedRecipe

    identity = SimpleNamespace(variant=None, edition=None)
    checkpoint = SimpleNamespace(
        path="/models/x.safetensors", base="sd1", format="safetensors", identity=identity
    )
    return ResolvedRecipe(
        recipe=Recipe(checkpoint="x", prompt="a cat, inkstyle"),
        checkpoint=Resolution("checkpoint", "x", asset=checkpoint),
        embeddings=[Resolution("embedding", "inkstyle", asset=embedding_asset, problem=problem)],
    )


def test_job_carries_the_recipe_embeddings_under_their_prompt_names():
    from types import SimpleNamespace

    from pantry.render import job_from_resolved

    asset = SimpleNamespace(path="/models/embeddings/InkStyle.pt")
    job = job_from_resolved(resolved_with_embedding(asset))
    assert job.embeddings == [EmbeddingJob(Path("/models/embeddings/InkStyle.pt"), "inkstyle")]


def test_job_takes_the_emphasis_setting_an_infotext_carried():
    from types import SimpleNamespace

    from pantry.render import job_from_resolved

    resolved = resolved_with_embedding(SimpleNamespace(path="/e.pt"))
    resolved.recipe.extra["Emphasis"] = "No norm"
    assert job_from_resolved(resolved).emphasis == "No norm"


def test_job_with_an_embedding_that_was_not_found_is_an_error():
    from pantry.render import job_from_resolved

    with pytest.raises(RenderError, match="embedding 'inkstyle' is not available: not_found"):
        job_from_resolved(resolved_with_embedding(None, problem="not_found"))
