"""Recipe TOML: the user-facing format, its validation messages and round trip."""

from __future__ import annotations

import pytest

from pantry.errors import RecipeError
from pantry.recipes.model import LoraSpec, Recipe
from pantry.recipes.toml_io import dump_recipe, key_lines, load_recipe, loads_recipe

STREET_PORTRAIT = """\
name = "street portrait"          # optional
checkpoint = "realisticVisionV60" # catalog name
vae = "vae-ft-mse-840000"
clip_skip = 1
prompt = "photo of a woman, <lora:add_detail:0.6>"
negative_prompt = "blurry"
width = 512
height = 768
steps = 25
cfg_scale = 7.0
sampler = "DPM++ 2M"
scheduler = "karras"
seed = 1234

[[loras]]
ref = "detail_tweaker"
weight = 0.6

[[loras]]
ref = "hf://owner/repo/film_grain.safetensors"

[lint]
ignore = ["S104"]
"""


def test_the_documented_example_loads_into_recipe_fields():
    recipe = loads_recipe(STREET_PORTRAIT)
    assert recipe.name == "street portrait"
    assert recipe.checkpoint == "realisticVisionV60"
    assert recipe.vae == "vae-ft-mse-840000"
    assert (recipe.width, recipe.height, recipe.steps, recipe.seed) == (512, 768, 25, 1234)
    assert recipe.cfg_scale == 7.0
    assert (recipe.sampler, recipe.scheduler) == ("DPM++ 2M", "karras")
    assert recipe.loras == [
        LoraSpec("detail_tweaker", 0.6),
        LoraSpec("hf://owner/repo/film_grain.safetensors", 1.0),
    ]
    assert recipe.lint_ignore == ["S104"]


def test_lines_record_where_each_key_and_lora_entry_was_written():
    recipe = loads_recipe(STREET_PORTRAIT)
    assert recipe.lines["checkpoint"] == 2
    assert recipe.lines["prompt"] == 5
    assert recipe.lines["loras[0]"] == 15
    assert recipe.lines["loras[0].weight"] == 17
    assert recipe.lines["loras[1]"] == 19
    assert recipe.lines["lint.ignore"] == 23


def test_all_loras_adds_prompt_tags_after_the_table():
    recipe = loads_recipe(STREET_PORTRAIT)
    assert [(s.ref, s.weight, s.from_prompt) for s in recipe.all_loras()] == [
        ("detail_tweaker", 0.6, False),
        ("hf://owner/repo/film_grain.safetensors", 1.0, False),
        ("add_detail", 0.6, True),
    ]


def test_integer_cfg_scale_is_accepted_as_a_number():
    assert loads_recipe('checkpoint = "m"\ncfg_scale = 7').cfg_scale == 7.0


def test_keys_inside_multiline_prompts_are_not_mistaken_for_keys():
    text = 'checkpoint = "m"\nprompt = """\nsteps = a cat\n"""\nsteps = 30\n'
    lines = key_lines(text)
    assert lines["steps"] == 5
    assert loads_recipe(text).prompt == "steps = a cat\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('checkpoint = "m"\ncfg = 7\n', 2, ["unknown key 'cfg'", "cfg_scale"]),
        ('checkpoint = "m"\n\nsteps = 0\n', 3, ["steps", "out of range"]),
        ('checkpoint = "m"\nwidth = "512"\n', 2, ["width", "expected an integer", "'512'"]),
        ('checkpoint = "m"\nseed = true\n', 2, ["seed", "boolean"]),
        ('checkpoint = "m"\nclip_skip = 0\n', 2, ["clip_skip", "out of range"]),
        ("checkpoint = 3\n", 1, ["checkpoint", "expected a string"]),
        ('checkpoint = ""\n', 1, ["checkpoint", "must name a model"]),
        ('checkpoint = "m"\n[[loras]]\nref = "a"\n[[loras]]\nweight = 1\n', 4, ["loras[1]", "ref"]),
        (
            'checkpoint = "m"\n[[loras]]\nref = "a"\n\n[[loras]]\nref = "b"\nweight = "x"\n',
            7,
            ["loras[1].weight", "expected a number"],
        ),
        ('checkpoint = "m"\n[[loras]]\nref = "a"\nstrength = 1\n', 4, ["unknown key 'strength'"]),
        ('checkpoint = "m"\n[lint]\nignore = "S1"\n', 3, ["lint.ignore", "list"]),
        ('checkpoint = "m"\n[lint]\nselect = ["S1"]\n', 3, ["lint.select"]),
        ('checkpoint = "m"\nsteps = = 3\n', 2, ["TOML syntax error"]),
    ],
)
def test_faults_name_file_line_and_field(text, line, words):
    with pytest.raises(RecipeError) as caught:
        loads_recipe(text, source="portrait.toml")
    message = str(caught.value)
    assert message.startswith(f"portrait.toml:{line}: ")
    assert "\n" not in message
    for word in words:
        assert word in message


def test_missing_checkpoint_is_an_error():
    with pytest.raises(RecipeError, match="missing required key 'checkpoint'"):
        loads_recipe('prompt = "a cat"')


def test_load_recipe_names_a_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="no such file"):
        load_recipe(tmp_path / "nope.toml")


def test_load_recipe_records_the_source(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text('checkpoint = "m"\n')
    assert load_recipe(path).source == path


def _roundtrip(recipe: Recipe) -> Recipe:
    back = loads_recipe(dump_recipe(recipe))
    back.lines = {}
    return back


def test_dump_then_load_gives_the_same_recipe():
    recipe = Recipe(
        checkpoint="realisticVisionV60",
        name="street portrait",
        prompt='photo of a "woman",\n(freckles:1.2) <lora:add_detail:0.6>\tBREAK\n city\\night',
        negative_prompt="blurry",
        vae="vae-ft-mse-840000",
        clip_skip=2,
        width=832,
        height=1216,
        steps=30,
        cfg_scale=5.5,
        sampler="DPM++ 2M SDE",
        scheduler="exponential",
        seed=2**40,
        loras=[LoraSpec("detail_tweaker", -0.5), LoraSpec("style", 0.8, unet_weight=0.3)],
        lint_ignore=["P201", "S104"],
        extra={"Hires upscale": "2", "Model hash": "0123456789"},
    )
    assert _roundtrip(recipe) == recipe


def test_dump_leaves_out_unset_optional_fields():
    text = dump_recipe(Recipe(checkpoint="m"))
    assert "vae" not in text
    assert "scheduler" not in text
    assert "[lint]" not in text


def test_unicode_and_control_characters_survive_a_round_trip():
    recipe = Recipe(checkpoint="モデル", prompt="café ☕, 日本語, emoji 🐱, bell\x07, del\x7f")
    assert _roundtrip(recipe) == recipe


def test_clip_skip_past_sd1_range_loads_and_is_left_to_lint():
    # SD2's OpenCLIP-H has 23 usable layers: only lint knows which text encoder is in play.
    recipe = loads_recipe('checkpoint = "sd21"\nclip_skip = 20\n')
    assert recipe.clip_skip == 20
