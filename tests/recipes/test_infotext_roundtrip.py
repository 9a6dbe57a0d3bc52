"""What ``write_infotext`` produces must read back, in A1111's own reader, to the recipe's values.

``a1111_read`` below restates the reading rules of A1111's ``parse_generation_parameters``
(modules/infotext_utils.py): its parameter regex, the "at least 3 pairs on the last line" rule,
JSON unquoting, "WxH" values split into KEY-1/KEY-2, and the negative-prompt prefix.
"""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pantry.recipes.infotext import parse_infotext, write_infotext
from pantry.recipes.model import LoraSpec, Recipe
from tests.recipes.test_infotext_realworld import (
    A1111_ADETAILER_CONTROLNET,
    CIVITAI_HASHES,
    FORGE_FLUX,
    SDNEXT,
    SWARM_CONVERTED,
)

A1111_PARAM = re.compile(r"""\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""")
A1111_SIZE = re.compile(r"^(\d+)x(\d+)$")


def a1111_read(text: str) -> dict[str, str]:
    result: dict[str, str] = {}
    prompt, negative, in_negative = [], [], False
    *lines, last = text.strip().split("\n")
    if len(A1111_PARAM.findall(last)) < 3:
        lines.append(last)
        last = ""
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[16:].strip()
        (negative if in_negative else prompt).append(line)
    for key, value in A1111_PARAM.findall(last):
        if value and value[0] == '"' and value[-1] == '"':
            with contextlib.suppress(ValueError):  # A1111 keeps the quotes then
                value = json.loads(value)
        size = A1111_SIZE.match(value)
        if size:
            result[f"{key}-1"], result[f"{key}-2"] = size.groups()
        else:
            result[key] = value
    result["Prompt"], result["Negative prompt"] = "\n".join(prompt), "\n".join(negative)
    return result


def _assert_a1111_reads(recipe: Recipe) -> None:
    read = a1111_read(write_infotext(recipe))
    assert read["Prompt"] == recipe.prompt
    assert read["Negative prompt"] == recipe.negative_prompt
    assert read["Steps"] == str(recipe.steps)
    assert read["Sampler"] == recipe.sampler
    assert float(read["CFG scale"]) == recipe.cfg_scale
    assert read["Seed"] == str(recipe.seed)
    assert (read["Size-1"], read["Size-2"]) == (str(recipe.width), str(recipe.height))
    assert read.get("Clip skip", "1") == str(recipe.clip_skip or 1)
    for key, value in recipe.extra.items():
        size = A1111_SIZE.match(value)
        if size:
            assert (read[f"{key}-1"], read[f"{key}-2"]) == size.groups()
        elif key not in ("Model", "VAE", "Sampler"):  # written from the recipe's own fields
            assert read[key] == value, key


REAL_TEXTS = [A1111_ADETAILER_CONTROLNET, FORGE_FLUX, CIVITAI_HASHES, SDNEXT, SWARM_CONVERTED]


@pytest.mark.parametrize("text", REAL_TEXTS)
def test_a1111_reads_what_pantry_writes_from_real_infotexts(text):
    _assert_a1111_reads(parse_infotext(text).recipe)


@pytest.mark.parametrize("text", REAL_TEXTS)
def test_writing_then_reading_gives_the_same_recipe(text):
    recipe = parse_infotext(text).recipe
    assert parse_infotext(write_infotext(recipe)).recipe == recipe


def test_schedule_type_written_for_a1111_means_the_same_schedule():
    recipe = parse_infotext(A1111_ADETAILER_CONTROLNET).recipe
    assert a1111_read(write_infotext(recipe))["Schedule type"] == "Karras"


def test_table_loras_survive_as_prompt_tags():
    recipe = Recipe(checkpoint="m", prompt="a cat", loras=[LoraSpec("grain", 0.4)])
    back = parse_infotext(write_infotext(recipe)).recipe
    assert [(s.ref, s.weight) for s in back.all_loras()] == [("grain", 0.4)]


# Text users type into values: commas, colons, quotes, backslashes, JSON, newlines, unicode.
VALUE_TEXT = st.text(
    alphabet=st.sampled_from(list('abc XYZ019,:;"\\{}[]()=<>\n.-_/桜é')), min_size=1, max_size=30
).map(str.strip)
KEYS = st.sampled_from(["ADetailer prompt", "Hires prompt", "Wildcard prompt", "Note", "Styles"])
PROMPT_LINE = st.text(alphabet=st.sampled_from(list("abc XYZ,:()<>[]0.9")), max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    prompt=st.lists(PROMPT_LINE.map(str.strip), min_size=1, max_size=3).map("\n".join),
    negative=PROMPT_LINE.map(str.strip),
    extra=st.dictionaries(KEYS, VALUE_TEXT.filter(bool), max_size=3),
    seed=st.integers(min_value=0, max_value=2**64),
    cfg=st.sampled_from([1.0, 4.5, 7.0, 12.25]),
)
def test_any_recipe_is_read_back_by_a1111_and_by_pantry(prompt, negative, extra, seed, cfg):
    recipe = Recipe(
        checkpoint="dreamshaper_8",
        prompt=prompt.strip(),
        negative_prompt=negative,
        seed=seed,
        cfg_scale=cfg,
        clip_skip=2,
        extra={k: v for k, v in extra.items() if v != k},
    )
    _assert_a1111_reads(recipe)
    back = parse_infotext(write_infotext(recipe)).recipe
    assert (back.prompt, back.negative_prompt, back.seed) == (
        recipe.prompt,
        recipe.negative_prompt,
        recipe.seed,
    )
    assert {k: back.extra[k] for k in recipe.extra} == recipe.extra
