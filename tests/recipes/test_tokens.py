"""CLIP token counts from the bundled vocabulary, checked against transformers."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from pantry.recipes.tokens import chunks, count_tokens, encode

PROMPTS = [
    "a photo of a cat",
    "masterpiece, best quality, 1girl, solo, looking at viewer, (smile:1.2)",
    "Café au lait, naïve résumé — 日本語のテキスト, emoji 🐱🔥",
    "don't stop   believin'\n\tnew   lines and\ttabs",
    "RAW photo, 8k uhd, dslr, soft lighting, film grain, Fujifilm XT3, 35mm",
    "<|endoftext|> is special",
]


def test_a_photo_of_a_cat_has_the_reference_ids():
    assert encode("a photo of a cat") == [49406, 320, 1125, 539, 320, 2368, 49407]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_ids_match_transformers_clip_tokenizer(prompt):
    transformers = pytest.importorskip("transformers")
    folder = resources.files("pantry.data") / "clip_tokenizer"
    with resources.as_file(folder) as path:
        reference = transformers.CLIPTokenizer.from_pretrained(str(path))
    assert encode(prompt) == reference(prompt).input_ids


def test_bundled_files_carry_the_licence_and_clip_sizes():
    folder = resources.files("pantry.data") / "clip_tokenizer"
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    assert len(vocab) == 49408
    assert vocab["<|startoftext|>"] == 49406
    assert (
        "MIT" in (folder / "NOTICE").read_text()
        or "Permission is hereby granted" in (folder / "LICENSE").read_text()
    )


def test_prompt_syntax_does_not_inflate_counts():
    plain = count_tokens("a photo of a cat")
    assert plain == 5
    assert count_tokens("a (photo:1.3) of [a] ((cat)) <lora:add_detail:0.8>") == plain
    assert count_tokens("a photo BREAK of a cat") == plain


def test_prompt_editing_counts_the_longest_variant():
    assert count_tokens("a photo of a [cat:sleeping black cat:0.4]") == count_tokens(
        "a photo of a sleeping black cat"
    )


def test_chunks_split_at_75_tokens():
    words = " ".join(["cat"] * 80)  # one token each
    assert chunks(words) == [75, 5]


def test_chunks_move_the_words_after_a_late_comma_to_the_next_chunk():
    # 73 single-token words, a comma (74th token), then 5 more words: the chunk is cut after
    # the comma, as A1111's comma backtracking does.
    prompt = " ".join(["cat"] * 73) + ", " + " ".join(["dog"] * 5)
    assert chunks(prompt) == [74, 5]


def test_break_starts_a_new_chunk():
    assert chunks("a photo of a cat BREAK red background") == [5, 2]


def test_empty_prompt_is_one_empty_chunk():
    assert chunks("") == [0]
    assert count_tokens("") == 0
