"""Infotext from image files of other writers, and its resources matched in a catalog."""

from __future__ import annotations

import json

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from pantry.catalog.asset import HASH_BLAKE3
from pantry.recipes.image_meta import read_png_infotext
from pantry.recipes.infotext import parse_infotext
from tests.recipes.fakes import FakeCatalog, make_asset
from tests.recipes.test_infotext_realworld import (
    CIVITAI_HASHES,
    FOOOCUS_JSON,
    INVOKE_JSON,
    SDNEXT,
)


def _png(path, size=(8, 8), **texts):
    info = PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    Image.new("RGB", size).save(path, pnginfo=info)
    return path


def test_fooocus_png_with_json_parameters_reads_as_a1111_infotext(tmp_path):
    path = _png(tmp_path / "f.png", parameters=json.dumps(FOOOCUS_JSON), fooocus_scheme="fooocus")
    text = read_png_infotext(path)
    assert text.splitlines()[0] == "a cozy reading nook, warm light, cinematic"
    assert "Size: 1152x896" in text.splitlines()[-1]
    assert parse_infotext(text).recipe.checkpoint == "juggernautXL_v8Rundiffusion"


def test_fooocus_jpeg_with_json_user_comment(tmp_path):
    image = Image.new("RGB", (8, 8))
    exif = image.getexif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + json.dumps(FOOOCUS_JSON).encode("utf-16-be")
    image.save(tmp_path / "f.jpg", exif=exif)
    recipe = parse_infotext(read_png_infotext(tmp_path / "f.jpg")).recipe
    assert (recipe.sampler, recipe.steps) == ("DPM++ 2M SDE", 30)


def test_invokeai_png(tmp_path):
    path = _png(tmp_path / "i.png", invokeai_metadata=json.dumps(INVOKE_JSON))
    recipe = parse_infotext(read_png_infotext(path)).recipe
    assert recipe.prompt == "a cabin in the snow, <lora:snow_detail:0.75>"
    assert recipe.seed == 3141


def test_invokeai_2_sd_metadata_png(tmp_path):
    legacy = {
        "model_weights": "stable-diffusion-1.5",
        "model_hash": "cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516",
        "app_version": "2.3.5",
        "image": {
            "prompt": [{"prompt": "a castle [fog, blur]", "weight": 1.0}],
            "steps": 50,
            "cfg_scale": 7.5,
            "seed": 7,
            "width": 512,
            "height": 768,
            "sampler": "k_lms",
        },
    }
    path = _png(tmp_path / "old.png", **{"sd-metadata": json.dumps(legacy)})
    recipe = parse_infotext(read_png_infotext(path)).recipe
    assert (recipe.prompt, recipe.negative_prompt) == ("a castle", "fog, blur")
    assert (recipe.sampler, recipe.height, recipe.checkpoint) == (
        "LMS",
        768,
        "stable-diffusion-1.5",
    )


def test_novelai_png_without_size_in_comment_uses_the_image_size(tmp_path):
    comment = json.dumps({"steps": 28, "sampler": "k_dpmpp_2m", "scale": 5, "seed": 1, "uc": ""})
    path = _png(
        tmp_path / "n.png", size=(64, 96), Software="NovelAI", Description="cat", Comment=comment
    )
    recipe = parse_infotext(read_png_infotext(path)).recipe
    assert (recipe.width, recipe.height, recipe.sampler) == (64, 96, "DPM++ 2M")


# --- catalog matching ------------------------------------------------------------------------


def test_civitai_hashes_json_finds_renamed_files_in_the_catalog():
    vae = make_asset(2, "my_sdxl_vae", "vae", sha256="735e4c3a44" + "0" * 54)
    lora = make_asset(3, "renamed_beach", "lora", addnet="a1b2c3d4e5f6" + "0" * 52)
    checkpoint = make_asset(1, "pony_v6", "checkpoint", sha256="67ab2fd8ec" + "1" * 54)
    parsed = parse_infotext(CIVITAI_HASHES, catalog=FakeCatalog([checkpoint, vae, lora]))
    assert parsed.recipe.checkpoint == "pony_v6"
    assert parsed.recipe.vae == "my_sdxl_vae"
    unmatched = {item.slot: item for item in parsed.report.unmatched}
    assert "lora" not in unmatched  # found by the hash in "Hashes", under another name


def test_unmatched_loras_report_the_hash_the_infotext_gave():
    parsed = parse_infotext(SDNEXT, catalog=FakeCatalog([]))
    loras = [item for item in parsed.report.unmatched if item.slot == "lora"]
    assert [(item.name, item.hash) for item in loras] == [("film_grain", "3e2d1c0b9a8f")]


def test_invokeai_blake3_model_hash_finds_the_checkpoint():
    asset = make_asset(1, "renamed_juggernaut", "checkpoint")
    asset.hashes[HASH_BLAKE3] = "ab" * 32
    parsed = parse_infotext(json.dumps(INVOKE_JSON), catalog=FakeCatalog([asset]))
    assert parsed.recipe.checkpoint == "renamed_juggernaut"
