"""A1111 infotext: reading what A1111, Forge, SD.Next and ComfyUI exporters write, and writing
text A1111 reads back."""

from __future__ import annotations

import json

import pytest

from pantry.errors import RecipeError
from pantry.recipes.infotext import (
    InfotextHashes,
    parse_infotext,
    read_infotext,
    write_infotext,
)
from pantry.recipes.model import LoraSpec, Recipe

A1111_HIRES = """\
masterpiece, best quality, 1girl, silver hair, (detailed eyes:1.2), cherry blossoms, \
<lora:animeLineart_v3:0.7>
Negative prompt: (worst quality, low quality:1.4), EasyNegative, bad-hands-5
Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 2861534987, \
Size: 512x768, Model hash: 7f96a1a9ca, Model: anyloraCheckpoint_bakedvaeBlessedFp16, \
VAE hash: 63aeecb90f, VAE: kl-f8-anime2.ckpt, Denoising strength: 0.4, Clip skip: 2, \
Hires upscale: 2, Hires steps: 15, Hires upscaler: R-ESRGAN 4x+ Anime6B, \
Lora hashes: "animeLineart_v3: 3e0e1a2b4c5d", \
TI hashes: "EasyNegative: c74b4e810b03, bad-hands-5: aa7651be154c", Version: v1.10.1"""

OLD_A1111 = """\
RAW photo, portrait of a 30 y.o. man, rim lighting, 85mm
Negative prompt: cartoon, painting
Steps: 30, Sampler: DPM++ SDE Karras, CFG scale: 5.5, Seed: 99, Size: 768x1024, \
Model hash: 4199bcdd14, Model: realisticVisionV20"""

FORGE_SDXL = """\
cinematic still of a lighthouse in a storm, dramatic sky, <lora:sdxl_lightning_4step_lora:1>
Steps: 6, Sampler: Euler, Schedule type: SGM Uniform, CFG scale: 1.5, Seed: 123456789, \
Size: 1024x1024, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, \
Lora hashes: "sdxl_lightning_4step_lora: 0ce9ad1b9c7b", \
Version: f2.0.1v1.10.1-previous-313-g8a042934, Module 1: sdxl_vae"""

COMFY_SAVER = """\
a cozy cabin in snowy woods, warm light, embedding:EasyNegative
Negative prompt: blurry
Steps: 20, Sampler: dpmpp_2m_karras, CFG scale: 8.0, Seed: 42, Size: 640x896, \
Model: dreamshaper_8, Model hash: 879db523c3"""

COMFY_SPLIT = """\
portrait photo
Steps: 25, Sampler: euler_ancestral, Scheduler: normal, CFG scale: 6, Seed: 7, Size: 512x512"""


def _recipe(text: str) -> Recipe:
    return parse_infotext(text).recipe


def test_a1111_hires_infotext_fields():
    recipe = _recipe(A1111_HIRES)
    assert recipe.prompt.startswith("masterpiece, best quality")
    assert recipe.prompt.endswith("<lora:animeLineart_v3:0.7>")
    assert recipe.negative_prompt == "(worst quality, low quality:1.4), EasyNegative, bad-hands-5"
    assert (recipe.steps, recipe.cfg_scale, recipe.seed) == (28, 7.0, 2861534987)
    assert (recipe.width, recipe.height) == (512, 768)
    assert (recipe.sampler, recipe.scheduler) == ("DPM++ 2M", "karras")
    assert recipe.checkpoint == "anyloraCheckpoint_bakedvaeBlessedFp16"
    assert recipe.vae == "kl-f8-anime2"
    assert recipe.clip_skip == 2


def test_hires_hashes_and_unknown_keys_are_kept_in_extra():
    extra = _recipe(A1111_HIRES).extra
    assert extra["Hires upscale"] == "2"
    assert extra["Hires steps"] == "15"
    assert extra["Hires upscaler"] == "R-ESRGAN 4x+ Anime6B"
    assert extra["Denoising strength"] == "0.4"
    assert extra["Model hash"] == "7f96a1a9ca"
    assert extra["VAE hash"] == "63aeecb90f"
    assert extra["Lora hashes"] == "animeLineart_v3: 3e0e1a2b4c5d"
    assert extra["TI hashes"] == "EasyNegative: c74b4e810b03, bad-hands-5: aa7651be154c"
    assert extra["Version"] == "v1.10.1"
    assert "Steps" not in extra and "Model" not in extra


def test_prompt_lora_tags_become_loras():
    assert _recipe(A1111_HIRES).all_loras() == [LoraSpec("animeLineart_v3", 0.7, True)]


def test_old_combined_sampler_name_splits_into_sampler_and_scheduler():
    recipe = _recipe(OLD_A1111)
    assert (recipe.sampler, recipe.scheduler) == ("DPM++ SDE", "karras")


@pytest.mark.parametrize(
    ("label", "sampler", "scheduler"),
    [
        ("DPM++ 2M Karras", "DPM++ 2M", "karras"),
        ("DPM++ 2M SDE Exponential", "DPM++ 2M SDE", "exponential"),
        ("DPM2 a Karras", "DPM2 a", "karras"),
        ("Euler a", "Euler a", None),
        ("DPM++ 2M", "DPM++ 2M", None),
        ("Some Custom Sampler Karras", "Some Custom Sampler Karras", None),
    ],
)
def test_sampler_labels(label, sampler, scheduler):
    text = f"cat\nSteps: 20, Sampler: {label}, CFG scale: 7, Seed: 1, Size: 512x512"
    recipe = _recipe(text)
    assert (recipe.sampler, recipe.scheduler) == (sampler, scheduler)


def test_missing_clip_skip_means_1():
    assert _recipe(OLD_A1111).clip_skip == 1


def test_forge_sdxl_with_schedule_type_and_extra_module_keys():
    recipe = _recipe(FORGE_SDXL)
    assert (recipe.sampler, recipe.scheduler) == ("Euler", "sgm_uniform")
    assert recipe.negative_prompt == ""
    assert recipe.cfg_scale == 1.5
    assert recipe.extra["Module 1"] == "sdxl_vae"
    assert recipe.extra["Version"].startswith("f2.0.1")


def test_comfyui_sampler_names_become_a1111_names():
    recipe = _recipe(COMFY_SAVER)
    assert (recipe.sampler, recipe.scheduler) == ("DPM++ 2M", "karras")
    split = _recipe(COMFY_SPLIT)
    assert (split.sampler, split.scheduler) == ("Euler a", "normal")


def test_multi_line_prompt_and_negative_prompt():
    text = (
        "line one of the prompt,\n  line two BREAK\nline three\n"
        "Negative prompt: bad anatomy,\nextra fingers\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x512"
    )
    recipe = _recipe(text)
    assert recipe.prompt == "line one of the prompt,\nline two BREAK\nline three"
    assert recipe.negative_prompt == "bad anatomy,\nextra fingers"


def test_crlf_bom_and_trailing_whitespace_are_tolerated():
    text = "\ufeffa red fox   \r\nNegative prompt: blurry  \r\n" + (
        "Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 512x512  \r\n\r\n"
    )
    recipe = _recipe(text)
    assert (recipe.prompt, recipe.negative_prompt, recipe.steps) == ("a red fox", "blurry", 20)


def test_prompt_text_that_looks_like_parameters_stays_prompt():
    text = (
        "poster saying Steps: 3, Sampler: none, CFG scale: high\n"
        "Steps: 40, Sampler: DDIM, CFG scale: 9, Seed: 8, Size: 640x640"
    )
    recipe = _recipe(text)
    assert recipe.prompt == "poster saying Steps: 3, Sampler: none, CFG scale: high"
    assert (recipe.steps, recipe.sampler) == (40, "DDIM")


def test_last_line_with_fewer_than_three_pairs_is_prompt_not_parameters():
    with pytest.raises(RecipeError, match="no parameter line"):
        read_infotext("a cat\nstyle: watercolor, mood: calm")


def test_text_after_the_parameter_line_is_kept():
    text = (
        "a cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 512x512\n"
        "Template: a {subject}"
    )
    recipe = _recipe(text)
    assert recipe.steps == 20
    assert recipe.extra["Trailing text"] == "Template: a {subject}"


def test_no_negative_prompt_and_no_prompt():
    recipe = _recipe("Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 512x512")
    assert (recipe.prompt, recipe.negative_prompt) == ("", "")


def test_quoted_values_are_json_decoded():
    text = (
        "cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 512x512, "
        'ADetailer prompt: "face, \\"smiling\\"\\nclose-up", Emphasis: Original'
    )
    extra = _recipe(text).extra
    assert extra["ADetailer prompt"] == 'face, "smiling"\nclose-up'
    assert extra["Emphasis"] == "Original"


def test_unicode_prompts_survive():
    text = "桜の木の下の少女, café ☕, «quotes»\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1"
    assert _recipe(text).prompt == "桜の木の下の少女, café ☕, «quotes»"


def test_unreadable_values_are_noted_and_defaults_kept():
    parsed = parse_infotext("cat\nSteps: many, Sampler: Euler, CFG scale: 7, Size: big")
    assert parsed.recipe.steps == 20
    assert any("Steps" in note for note in parsed.report.notes)
    assert any("Size" in note for note in parsed.report.notes)


def test_model_hash_stands_in_when_the_model_name_is_missing():
    text = "cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Model hash: 6ce0161689"
    assert _recipe(text).checkpoint == "6ce0161689"


def test_no_model_is_reported():
    parsed = parse_infotext("cat\nSteps: 20, Sampler: Euler, CFG scale: 7")
    assert parsed.recipe.checkpoint == ""
    assert any("names no model" in note for note in parsed.report.notes)


@pytest.mark.parametrize("text", ["", "   \n\r\n  ", "just a prompt with no parameters"])
def test_unparseable_text_is_a_recipe_error_with_a_reason(text):
    with pytest.raises(RecipeError) as caught:
        parse_infotext(text, source="image.png")
    assert str(caught.value).startswith("image.png: ")


# --- writing ---------------------------------------------------------------------------


def _full_recipe() -> Recipe:
    return Recipe(
        checkpoint="realisticVisionV60",
        prompt="photo of a woman, freckles, <lora:add_detail:0.6>\nBREAK city at night",
        negative_prompt="blurry, lowres",
        vae="vae-ft-mse-840000",
        clip_skip=2,
        width=512,
        height=768,
        steps=25,
        cfg_scale=7.0,
        sampler="DPM++ 2M",
        scheduler="karras",
        seed=1234,
        extra={
            "Model hash": "6ce0161689",
            "Hires upscaler": "Latent (nearest-exact)",
            "Wildcard prompt": "a {red|blue}, car: fast",
            "Version": "v1.10.1",
        },
    )


def test_written_infotext_reads_back_to_the_same_recipe():
    recipe = _full_recipe()
    assert _recipe(write_infotext(recipe)) == recipe


def test_written_parameter_line_uses_a1111_order_and_quoting():
    line = write_infotext(_full_recipe()).splitlines()[-1]
    assert line.startswith(
        "Steps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, "
        "Size: 512x768, Model hash: 6ce0161689, Model: realisticVisionV60, "
        "VAE: vae-ft-mse-840000, Clip skip: 2, "
    )
    assert 'Wildcard prompt: "a {red|blue}, car: fast"' in line
    assert line.endswith("Version: v1.10.1")


def test_clip_skip_1_is_left_out_like_a1111():
    recipe = _full_recipe()
    recipe.clip_skip = 1
    assert "Clip skip" not in write_infotext(recipe)
    assert _recipe(write_infotext(recipe)).clip_skip == 1


def test_table_loras_are_written_as_prompt_tags():
    recipe = Recipe(
        checkpoint="hf://owner/repo/models/dreamshaper_8.safetensors",
        prompt="a cat",
        loras=[LoraSpec("detail_tweaker", 0.6), LoraSpec("style", 0.5, unet_weight=0.8)],
    )
    text = write_infotext(recipe)
    back = _recipe(text)
    assert back.prompt == "a cat <lora:detail_tweaker:0.6> <lora:style:0.5:0.8>"
    assert [(s.ref, s.weight, s.unet_weight) for s in back.all_loras()] == [
        ("detail_tweaker", 0.6, None),
        ("style", 0.5, 0.8),
    ]
    assert back.checkpoint == "dreamshaper_8"


def test_given_hashes_are_written_as_a1111_does():
    hashes = InfotextHashes(
        model="0123456789",
        model_name="dreamshaper_8",
        loras={"add_detail": "abcdefabcdef"},
        embeddings={"EasyNegative": "c74b4e810b03"},
    )
    recipe = Recipe(checkpoint="dreamshaper_8", prompt="cat <lora:add_detail:1>")
    text = write_infotext(recipe, hashes)
    assert 'Lora hashes: "add_detail: abcdefabcdef"' in text
    assert 'TI hashes: "EasyNegative: c74b4e810b03"' in text
    assert _recipe(text).extra["Model hash"] == "0123456789"


def test_values_starting_with_a_quote_are_quoted_so_they_read_back():
    recipe = Recipe(checkpoint="m", extra={"Note": '"hello"'})
    assert _recipe(write_infotext(recipe)).extra["Note"] == '"hello"'


def test_a_value_equal_to_its_key_is_written_bare():
    recipe = Recipe(checkpoint="m", extra={"Tiling": "Tiling"})
    line = write_infotext(recipe).splitlines()[-1]
    assert ", Tiling" in line and "Tiling: Tiling" not in line


def test_json_quoting_matches_json_dumps():
    recipe = Recipe(checkpoint="m", extra={"Prompt note": "a, b\nc"})
    assert f"Prompt note: {json.dumps('a, b' + chr(10) + 'c')}" in write_infotext(recipe)


def test_table_loras_written_into_the_prompt_do_not_change_its_tokens():
    from pantry.recipes.tokens import count_tokens

    recipe = Recipe(checkpoint="m", prompt="a cat", loras=[LoraSpec("detail_tweaker", 0.6)])
    back = _recipe(write_infotext(recipe))
    assert count_tokens(back.prompt) == count_tokens("a cat")  # tags stripped, no stray comma
