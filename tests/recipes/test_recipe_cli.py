"""`pantry recipe ...`: documents on stdout, messages on stderr, exit 2 for bad input."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from pantry.cli import recipe_cmds
from pantry.recipes.toml_io import loads_recipe

INFOTEXT = (
    "a lighthouse at dusk, <lora:lineart:0.8>\n"
    "Negative prompt: blurry\n"
    "Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, Size: 512x768, "
    "Model hash: 879db523c3, Model: dreamshaper_8, Clip skip: 2"
)


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("PANTRY_HOME", str(tmp_path / "home"))

    @click.group()
    def main() -> None:
        pass

    recipe_cmds.register(main)

    def invoke(*args: str, stdin: str | None = None):
        return CliRunner().invoke(main, ["recipe", *args], input=stdin)

    return invoke


def _png(path, text):
    info = PngInfo()
    info.add_text("parameters", text)
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


def test_from_png_prints_recipe_toml(run, tmp_path):
    result = run("from-png", str(_png(tmp_path / "a.png", INFOTEXT)), "--no-catalog")
    assert result.exit_code == 0, result.output
    recipe = loads_recipe(result.stdout)
    assert recipe.checkpoint == "dreamshaper_8"
    assert (recipe.sampler, recipe.scheduler, recipe.clip_skip) == ("DPM++ 2M", "karras", 2)
    assert result.stderr == ""


def test_from_png_lists_unresolved_resources_on_stderr(run, tmp_path):
    image = _png(tmp_path / "a.png", INFOTEXT)
    result = run("from-png", str(image), "--catalog", str(tmp_path / "empty.db"))
    assert result.exit_code == 0
    assert "unresolved: checkpoint 'dreamshaper_8'" in result.stderr
    assert "unresolved: lora 'lineart'" in result.stderr
    assert loads_recipe(result.stdout).checkpoint == "dreamshaper_8"


def test_from_text_reads_stdin_and_writes_output_file(run, tmp_path):
    target = tmp_path / "out.toml"
    result = run("from-text", "-", "-o", str(target), "--no-catalog", stdin=INFOTEXT)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "wrote" in result.stderr
    assert loads_recipe(target.read_text()).steps == 25


def test_to_text_writes_infotext_that_reads_back(run, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(INFOTEXT)
    toml_file = tmp_path / "r.toml"
    assert run("from-text", str(source), "-o", str(toml_file), "--no-catalog").exit_code == 0
    result = run("to-text", str(toml_file), "--no-catalog")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "a lighthouse at dusk, <lora:lineart:0.8>"
    assert lines[1] == "Negative prompt: blurry"
    assert lines[2].startswith("Steps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7")
    assert "Model hash: 879db523c3, Model: dreamshaper_8" in lines[2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("from-text", "missing.txt"), "missing.txt: cannot read"),
        (("to-text", "missing.toml"), "missing.toml: no such file"),
    ],
)
def test_bad_input_exits_2_with_one_line(run, args, message):
    result = run(*args, "--no-catalog")
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_text_without_parameters_exits_2(run):
    result = run("from-text", "-", "--no-catalog", stdin="just a prompt")
    assert result.exit_code == 2
    assert "<stdin>: no parameter line" in result.stderr


def test_bad_recipe_names_file_and_line(run, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('checkpoint = "m"\nstepz = 20\n')
    result = run("to-text", str(bad), "--no-catalog")
    assert result.exit_code == 2
    assert f"{bad}:2: unknown key 'stepz'" in result.stderr


def test_show_lists_resources_and_token_chunks(run, tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('checkpoint = "dreamshaper_8"\nprompt = "a photo of a cat BREAK red"\n')
    result = run("show", str(recipe), "--catalog", str(tmp_path / "c.db"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["resources"][0]["problem"] == "not_found"
    assert data["token_chunks"]["prompt"] == [5, 1]
