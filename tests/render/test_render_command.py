"""``pantry render`` end to end: catalog, lint, render, PNG with its recipe, render recorded."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from pantry.cli import main
from pantry.recipes.image_meta import read_png_infotext
from pantry.recipes.infotext import parse_infotext
from pantry.recipes.prompt import prompt_loras
from pantry.recipes.toml_io import loads_recipe
from tests.render.models import write_embedding

RECIPE = """\
name = "fox"
checkpoint = "tiny_sd1"
prompt = "a red fox in the snow"
negative_prompt = "blurry"
width = 64
height = 64
steps = 3
cfg_scale = 6.5
sampler = "DPM++ 2M"
scheduler = "karras"
seed = 1234
clip_skip = 2
{extra}
[lint]
ignore = ["PT405"]  # the tiny model renders far below its base's native size
"""
LORA = '\n[[loras]]\nref = "{ref}"\nweight = 0.7\n'


@pytest.fixture
def catalog_with(tiny, tmp_path):
    from pantry.catalog import Catalog

    path = tmp_path / "catalog.db"
    with Catalog.open(path) as catalog:
        catalog.add_file(tiny["sd1"].single_file)
        catalog.set_overrides("tiny_sd1", {"base": "sd1"})  # too small to be recognised
        catalog.add_file(tiny["lora_sd1"])
        catalog.set_overrides("kohya_sd1", {"base": "sd1"})
        catalog.add_file(tiny["lora_sdxl"])  # identified as SDXL from its te2 modules
    return path


def run_render(tmp_path, catalog_path, recipe_text: str, *extra: str):
    recipe = tmp_path / "fox.toml"
    recipe.write_text(recipe_text)
    out = tmp_path / "out"
    args = ["render", str(recipe), "--out", str(out), "--catalog", str(catalog_path)]
    result = CliRunner().invoke(main, [*args, "--device", "cpu", *extra])
    return result, out


def test_render_writes_a_png_whose_infotext_reads_back_as_the_recipe(tmp_path, catalog_with):
    result, out = run_render(
        tmp_path, catalog_with, RECIPE.format(extra=LORA.format(ref="kohya_sd1"))
    )
    assert result.exit_code == 0, result.output
    (png,) = out.glob("*.png")
    assert png.name == "fox-1234.png"

    parsed = parse_infotext(read_png_infotext(png)).recipe
    assert parsed.prompt.startswith("a red fox in the snow")
    assert (parsed.negative_prompt, parsed.steps, parsed.cfg_scale) == ("blurry", 3, 6.5)
    assert (parsed.sampler, parsed.scheduler, parsed.seed) == ("DPM++ 2M", "karras", 1234)
    assert (parsed.width, parsed.height, parsed.clip_skip) == (64, 64, 2)
    # an infotext names LoRAs as <lora:NAME:W> prompt tags, which recipes read as LoRAs
    loras = parsed.loras or prompt_loras(parsed.prompt)
    assert [(lora.ref, lora.weight) for lora in loras] == [("kohya_sd1", 0.7)]
    assert "Lora hashes" in parsed.extra and "Model hash" in parsed.extra

    from PIL import Image

    with Image.open(png) as image:
        embedded = loads_recipe(image.text["pantry-recipe"])
    assert embedded.checkpoint == "tiny_sd1" and embedded.loras[0].weight == 0.7


def test_render_is_recorded_in_the_catalog(tmp_path, catalog_with):
    from pantry.catalog import Catalog

    result, out = run_render(tmp_path, catalog_with, RECIPE.format(extra=""))
    assert result.exit_code == 0, result.output
    with Catalog.open(catalog_with) as catalog:
        (render,) = catalog.renders()
    assert render["seed"] == 1234
    assert render["output_path"] == str(out / "fox-1234.png")
    assert 'checkpoint = "tiny_sd1"' in render["recipe_toml"]


def test_same_recipe_renders_the_same_pixels_twice(tmp_path, catalog_with):
    from PIL import Image

    first, out = run_render(tmp_path, catalog_with, RECIPE.format(extra=""))
    image_one = np.asarray(Image.open(out / "fox-1234.png"))
    second, _ = run_render(tmp_path, catalog_with, RECIPE.format(extra=""))
    assert first.exit_code == second.exit_code == 0
    assert np.array_equal(image_one, np.asarray(Image.open(out / "fox-1234.png")))


def test_lora_for_another_base_is_refused_by_lint_before_any_model_loads(
    tmp_path, catalog_with, monkeypatch
):
    import pantry.render.loading as loading

    def must_not_load(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(loading, "load_pipeline", must_not_load)
    result, out = run_render(
        tmp_path, catalog_with, RECIPE.format(extra=LORA.format(ref="kohya_sdxl"))
    )
    assert result.exit_code == 1
    assert "kohya_sdxl" in result.output and "not rendering: lint found errors" in result.output
    assert not out.exists()


def test_force_renders_despite_lint_errors_and_the_renderer_refuses_the_lora(
    tmp_path, catalog_with
):
    recipe = RECIPE.format(extra=LORA.format(ref="kohya_sdxl"))
    result, _ = run_render(tmp_path, catalog_with, recipe, "--force")
    assert result.exit_code == 2
    assert "kohya_sdxl.safetensors: LoRA could not be applied" in result.output


def test_missing_recipe_file_is_a_one_line_error(tmp_path, catalog_with):
    result = CliRunner().invoke(
        main, ["render", str(tmp_path / "nope.toml"), "--catalog", str(catalog_with)]
    )
    assert result.exit_code == 2
    assert "nope.toml" in result.output and "Traceback" not in result.output


def test_embedding_named_in_the_prompt_is_rendered_and_written_to_the_infotext(
    tmp_path, catalog_with
):
    from pantry.catalog import Catalog

    embedding = write_embedding(tmp_path / "inkstyle", "safetensors", widths=[32], vectors=2)
    with Catalog.open(catalog_with) as catalog:
        catalog.add_file(embedding)
        catalog.set_overrides("inkstyle", {"base": "sd1"})  # too narrow to be recognised
    recipe = RECIPE.format(extra="").replace("in the snow", "in the snow, inkstyle")
    result, out = run_render(tmp_path, catalog_with, recipe)
    assert result.exit_code == 0, result.output
    parsed = parse_infotext(read_png_infotext(out / "fox-1234.png")).recipe
    assert parsed.prompt.endswith("inkstyle")
    assert parsed.extra["TI hashes"].startswith("inkstyle: ")


DEMO_SCRIPT = """
import sys
from pathlib import Path
from pantry.render import LoraJob, Renderer, RenderJob
from pantry.render.demo import build_demo_model

path = build_demo_model(sys.argv[1])
lora = LoraJob(Path(sys.argv[2]), 0.5)
job = RenderJob(checkpoint=path, base="sd1", width=64, height=64, steps=4, seed=42, loras=[lora])
print(Renderer(device="cpu").render(job).image.size)
"""


def test_demo_model_renders_through_the_single_file_loader_without_library_noise(tmp_path, tiny):
    import subprocess
    import sys

    # a fresh process: the libraries print their warnings once per process, on first use
    command = [sys.executable, "-c", DEMO_SCRIPT, str(tmp_path), str(tiny["lora_sd1"])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(64, 64)"
    assert done.stderr == ""
