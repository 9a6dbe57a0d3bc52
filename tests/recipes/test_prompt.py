"""A1111 prompt syntax: LoRA tags, emphasis, BREAK, prompt editing, embedding words."""

from __future__ import annotations

import pytest

from pantry.recipes.model import LoraSpec
from pantry.recipes.prompt import (
    BREAK,
    comfy_embeddings,
    encoder_segments,
    mentions_word,
    parse_attention,
    prompt_loras,
    strip_extra_networks,
)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("<lora:add_detail:0.6>", LoraSpec("add_detail", 0.6, True)),
        ("<lora:add_detail>", LoraSpec("add_detail", 1.0, True)),
        ("<lora:style:0.4:0.8>", LoraSpec("style", 0.4, True, unet_weight=0.8)),
        ("<lora:style:0.7:0.7>", LoraSpec("style", 0.7, True)),
        ("<lora:style:te=0.3:unet=0.9>", LoraSpec("style", 0.3, True, unet_weight=0.9)),
        ("<lora:style:unet=0.2>", LoraSpec("style", 1.0, True, unet_weight=0.2)),
        ("<lora:style:0.5:dyn=16>", LoraSpec("style", 0.5, True)),
        ("<lyco:locon_painting:0.75>", LoraSpec("locon_painting", 0.75, True)),
        ("<lora:glasses-v2.1 (SD1.5):-1>", LoraSpec("glasses-v2.1 (SD1.5)", -1.0, True)),
    ],
)
def test_lora_tags(tag, expected):
    assert prompt_loras(f"photo, {tag}, smile") == [expected]


def test_other_extra_networks_are_not_loras():
    assert prompt_loras("<hypernet:anime:0.5> <lora:a:1> <embedding:x>") == [
        LoraSpec("a", 1.0, True)
    ]


def test_extra_network_tags_are_removed_from_encoder_text():
    assert strip_extra_networks("a cat <lora:x:0.5>, <hypernet:y:1> sitting") == "a cat ,  sitting"


def test_emphasis_weights_follow_a1111():
    assert parse_attention("a (red:1.3) [dress] ((hat))") == [
        ("a ", 1.0),
        ("red", 1.3),
        (" ", 1.0),
        ("dress", pytest.approx(1 / 1.1)),
        (" ", 1.0),
        ("hat", pytest.approx(1.21)),
    ]


def test_escaped_brackets_are_literal_text():
    assert parse_attention(r"a \(b\) \[c\]") == [("a (b) [c]", 1.0)]


def test_unbalanced_brackets_do_not_break_parsing():
    assert parse_attention("smile) (hat") == [("smile) ", 1.0), ("hat", pytest.approx(1.1))]


def test_break_splits_segments():
    assert parse_attention("a cat BREAK a dog") == [("a cat", 1.0), (BREAK, -1.0), ("a dog", 1.0)]
    assert parse_attention("BREAKFAST") == [("BREAKFAST", 1.0)]


def test_prompt_editing_gives_one_encoder_text_per_variant():
    assert encoder_segments("a [cat:dog:0.5] <lora:x:1>") == [["a cat "], ["a dog "]]
    assert encoder_segments("a [hat:10] man") == [["a  man"], ["a hat man"]]
    assert encoder_segments("[red|blue] car") == [["red car"], ["blue car"]]


def test_comfy_embedding_syntax():
    assert comfy_embeddings("embedding:EasyNegative, (embedding:bad_hands.pt:1.2), x") == [
        "EasyNegative",
        "bad_hands",
    ]


@pytest.mark.parametrize(
    ("prompt", "found"),
    [
        ("easynegative, lowres", True),
        ("(EasyNegative:1.2)", True),
        ("easynegativev2, lowres", False),
        ("my_easynegative", False),
    ],
)
def test_embedding_words_match_whole_tokens_ignoring_case(prompt, found):
    assert mentions_word(prompt, "EasyNegative") is found
