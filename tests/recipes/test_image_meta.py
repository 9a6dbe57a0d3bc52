"""Reading embedded generation parameters from image files."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from pantry.errors import RecipeError
from pantry.recipes.image_meta import decode_user_comment, read_png_infotext

PARAMETERS = (
    "a red fox in snow, <lora:fur_detail:0.5>\n"
    "Negative prompt: blurry\n"
    "Steps: 24, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6, Seed: 77, Size: 64x64, "
    "Model: dreamshaper_8"
)


def _png(path, **texts):
    info = PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


def test_png_parameters_text_chunk(tmp_path):
    assert read_png_infotext(_png(tmp_path / "a.png", parameters=PARAMETERS)) == PARAMETERS


def test_png_parameters_as_international_text(tmp_path):
    info = PngInfo()
    info.add_itxt("parameters", "桜 " + PARAMETERS)
    Image.new("RGB", (8, 8)).save(tmp_path / "i.png", pnginfo=info)
    assert read_png_infotext(tmp_path / "i.png") == "桜 " + PARAMETERS


def test_jpeg_exif_user_comment(tmp_path):
    image = Image.new("RGB", (8, 8))
    exif = image.getexif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + PARAMETERS.encode("utf-16-be")
    image.save(tmp_path / "a.jpg", exif=exif)
    assert read_png_infotext(tmp_path / "a.jpg") == PARAMETERS


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"UNICODE\0" + "héllo".encode("utf-16-be"), "héllo"),
        (b"UNICODE\0" + "héllo".encode("utf-16-le"), "héllo"),
        (b"ASCII\0\0\0hello\0", "hello"),
    ],
)
def test_user_comment_encodings(raw, text):
    assert decode_user_comment(raw) == text


def test_novelai_comment_becomes_infotext(tmp_path):
    comment = json.dumps(
        {"steps": 28, "sampler": "k_euler_ancestral", "scale": 11, "seed": 5, "uc": "lowres"}
    )
    path = _png(tmp_path / "n.png", Software="NovelAI", Description="1girl, hat", Comment=comment)
    text = read_png_infotext(path)
    assert text.splitlines()[0] == "1girl, hat"
    assert text.splitlines()[1] == "Negative prompt: lowres"
    assert "Sampler: Euler a" in text and "Clip skip: 2" in text


def test_comfyui_only_png_says_so(tmp_path):
    path = _png(tmp_path / "c.png", prompt="{}", workflow="{}")
    with pytest.raises(RecipeError, match="ComfyUI workflow"):
        read_png_infotext(path)


def test_png_without_parameters(tmp_path):
    with pytest.raises(RecipeError, match="no generation parameters"):
        read_png_infotext(_png(tmp_path / "plain.png"))


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello")
    with pytest.raises(RecipeError, match=r"notes\.png: not a readable image"):
        read_png_infotext(path)


def test_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="no such file"):
        read_png_infotext(tmp_path / "gone.png")
