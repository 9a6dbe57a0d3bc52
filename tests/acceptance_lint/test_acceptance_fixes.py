"""Regressions found by feeding pantry the texts and recipes users really write.

Each test names the tool or mistake it comes from; the expected values are what that tool
wrote or what the user meant, never pantry's own output.
"""

from __future__ import annotations

import pytest
from PIL import Image

from pantry.errors import RecipeError
from pantry.lint.config import LintConfig
from pantry.lint.runner import lint
from pantry.recipes.image_meta import read_png_infotext
from pantry.recipes.infotext import hashes_from_resolved, parse_infotext, write_infotext
from pantry.recipes.model import LoraSpec, Recipe
from pantry.recipes.resolve import parse_name_hashes, resolve
from pantry.recipes.toml_io import loads_recipe
from tests.lint import builders as b
from tests.recipes.fakes import FakeCatalog, make_asset

A1111_PARAMS = (
    "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1, "
    "Size: 832x1216, Model hash: 31e35c80fc, Model: sdxl_base_1.0, Version: v1.10.1"
)


# --- EXIF UserComment as A1111 writes it (piexif: "UNICODE" + UTF-16 big-endian) ------------


def _jpeg_with_comment(path, payload: bytes):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = payload
    Image.new("RGB", (8, 8)).save(path, exif=exif.tobytes())
    return path


@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le"])
def test_jpeg_comment_whose_prompt_starts_with_cjk_is_read_in_either_byte_order(tmp_path, encoding):
    text = f"東京の夜景、ネオン\nNegative prompt: lowres\n{A1111_PARAMS}"
    image = _jpeg_with_comment(tmp_path / "a.jpg", b"UNICODE\0" + text.encode(encoding))
    assert read_png_infotext(image) == text


# --- SD.Next / A1111-internal size keys ----------------------------------------------------


def test_size_given_as_size_1_and_size_2_sets_width_and_height():
    text = "a fox\nSteps: 25, Seed: 42, Sampler: Euler a, CFG scale: 6, Size-1: 832, Size-2: 1216"
    recipe = parse_infotext(text).recipe
    assert (recipe.width, recipe.height) == (832, 1216)
    assert "Size-1" not in recipe.extra and "Size-2" not in recipe.extra


# --- Civitai "copy generation data" --------------------------------------------------------

CIVITAI = (
    "cinematic still of a woman in a neon alley\n"
    "Negative prompt: cartoon\n"
    "Steps: 30, CFG scale: 5, Sampler: DPM++ 2M Karras, Seed: 291, Size: 832x1216, "
    'Civitai resources: [{"type":"checkpoint","modelVersionId":128078,"modelName":"SDXL",'
    '"modelVersionName":"v1.0 VAE fix"},{"type":"lora","weight":0.8,"modelVersionId":135867,'
    '"modelName":"Detail Tweaker XL","modelVersionName":"v1.0"}]'
)


def test_civitai_text_without_model_says_which_checkpoint_civitai_used():
    report = parse_infotext(CIVITAI).report
    [note] = [n for n in report.notes if "names no model" in n]
    assert "'SDXL v1.0 VAE fix'" in note and "set checkpoint" in note


def test_civitai_loras_listed_only_in_resources_are_reported_not_dropped():
    parsed = parse_infotext(CIVITAI)
    assert parsed.recipe.loras == []  # a Civitai title is not a file name to resolve
    [note] = [n for n in parsed.report.notes if "Detail Tweaker XL" in n]
    assert "weight 0.8" in note and "[[loras]]" in note


def test_civitai_loras_tagged_in_the_prompt_give_no_note():
    text = CIVITAI.replace("neon alley\n", "neon alley, <lora:detail_tweaker_xl:0.8>\n", 1)
    assert not [n for n in parse_infotext(text).report.notes if "Detail Tweaker" in n]


# --- names several files share, told apart by the infotext's hash ---------------------------

SHA_A, SHA_B = "aa" * 32, "bb" * 32


def _two_add_details() -> FakeCatalog:
    return FakeCatalog(
        [
            make_asset(1, "realisticVisionV60", "checkpoint", sha256="cc" * 32),
            make_asset(2, "add_detail", "lora", sha256=SHA_A, folder="/models/a"),
            make_asset(3, "add_detail", "lora", sha256=SHA_B, folder="/models/b"),
        ]
    )


def test_ambiguous_lora_name_is_settled_by_the_infotext_hash():
    recipe = Recipe(
        checkpoint="realisticVisionV60",
        prompt="a knight <lora:add_detail:0.5>",
        extra={"Lora hashes": f"add_detail: {SHA_B[:12]}"},
    )
    [lora] = resolve(recipe, _two_add_details()).loras
    assert lora.problem is None and lora.asset.id == 3


def test_ambiguous_lora_name_with_a_hash_of_neither_stays_ambiguous():
    recipe = Recipe(
        checkpoint="realisticVisionV60",
        prompt="a knight <lora:add_detail:0.5>",
        extra={"Lora hashes": "add_detail: 0123456789ab"},
    )
    [lora] = resolve(recipe, _two_add_details()).loras
    assert lora.problem == "ambiguous" and len(lora.candidates) == 2


def test_infotext_model_hash_that_differs_from_the_local_file_is_noted():
    text = f"a knight\n{A1111_PARAMS}".replace("sdxl_base_1.0", "realisticVisionV60")
    report = parse_infotext(text, catalog=_two_add_details()).report
    [note] = [n for n in report.notes if "realisticVisionV60" in n]
    assert "31e35c80fc" in note and "cccccccccc" in note


# --- to-text keeps the hashes of resources the catalog could not match ----------------------


def test_to_text_keeps_unmatched_lora_and_embedding_hashes():
    catalog = FakeCatalog(
        [
            make_asset(1, "realisticVisionV60", "checkpoint"),
            make_asset(2, "detail", "lora", sha256=SHA_A),
            make_asset(3, "easynegative", "embedding", sha256=SHA_B),
        ]
    )
    recipe = Recipe(
        checkpoint="realisticVisionV60",
        prompt="a knight <lora:detail:0.5> <lora:missing_lora:0.7>",
        negative_prompt="easynegative, bad-hands-5",
        extra={
            "Lora hashes": "detail: 0000000000aa, missing_lora: 7c6bad76eb54",
            "TI hashes": "easynegative: 0000000000bb, bad-hands-5: aa7651be154c",
        },
    )
    text = write_infotext(recipe, hashes_from_resolved(resolve(recipe, catalog)))
    params = parse_infotext(text).recipe.extra
    assert parse_name_hashes(params["Lora hashes"]) == {
        "detail": SHA_A[:12],
        "missing_lora": "7c6bad76eb54",
    }
    assert parse_name_hashes(params["TI hashes"]) == {
        "easynegative": SHA_B[:12],
        "bad-hands-5": "aa7651be154c",
    }


# --- hand-written recipes: keys named the way other tools name them -------------------------


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ('model = "realisticVisionV60"\n', "did you mean 'checkpoint'"),
        ('checkpoint = "x"\nsampler_name = "Euler"\n', "did you mean 'sampler'"),
        ('checkpoint = "x"\n[[loras]]\nname = "add_detail"\n', "did you mean 'ref'"),
        ('checkpoint = "x"\n[[loras]]\nref = "a"\nstrength = 0.5\n', "did you mean 'weight'"),
    ],
)
def test_keys_other_tools_use_get_the_recipe_key_suggested(text, hint):
    with pytest.raises(RecipeError, match=hint):
        loads_recipe(text, source="r.toml")


# --- lint ------------------------------------------------------------------------------------


def _run(resolved, *codes, **context):
    return lint(resolved, LintConfig(select=list(codes)), b.quiet_context(**context))


def test_duplicate_lora_says_where_each_copy_comes_from():
    lora = b.add_detail()
    table = b.found("lora", lora, weight=0.7)
    tag = b.found("lora", lora)
    tag.lora = LoraSpec(ref=lora.name, weight=0.4, from_prompt=True)
    [finding] = _run(b.recipe_with(b.realistic_vision(), loras=[table, tag]), "PT411")
    assert "0.7 + 0.4" in finding.message and "in [[loras]] and the prompt" in finding.message


def _tokens(count: int):
    # the prompt has ``count`` tokens; the empty negative prompt has none
    return {"count_tokens": lambda text: count if text else 0, "count_chunks": lambda text: []}


def test_long_flux_prompt_within_t5_length_is_not_reported_as_clip_chunks():
    resolved = b.recipe_with(b.flux_dev(), prompt="long", width=1024, height=1024)
    assert _run(resolved, "PP501", **_tokens(269)) == []


def test_flux_prompt_past_t5_length_is_reported_with_that_length():
    resolved = b.recipe_with(b.flux_schnell(), prompt="long", width=1024, height=1024)
    [finding] = _run(resolved, "PP501", **_tokens(300))
    assert "T5" in finding.message and "256" in finding.message


def test_long_sdxl_prompt_is_still_reported_as_clip_chunks():
    resolved = b.recipe_with(b.sdxl_base(), prompt="long", width=1024, height=1024)
    [finding] = _run(resolved, "PP501", **_tokens(120))
    assert "2 chunks of 75" in finding.message
