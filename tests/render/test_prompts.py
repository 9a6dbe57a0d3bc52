"""Prompt embeddings: A1111 chunking and clip skip, checked against the text encoders directly."""

from __future__ import annotations

import pytest
import torch

from pantry.render.prompts import chunk_tokens, encode_sd, encode_sdxl, strip_extra_networks

COMMA = 267  # any id works: chunking only compares tokens with it


def test_short_prompt_is_one_chunk():
    assert chunk_tokens([[1, 2, 3]], COMMA) == [[1, 2, 3]]


def test_empty_prompt_is_one_empty_chunk():
    assert chunk_tokens([[]], COMMA) == [[]]


def test_long_prompt_without_commas_splits_at_75():
    tokens = list(range(1000, 1100))
    assert chunk_tokens([tokens], COMMA) == [tokens[:75], tokens[75:]]


def test_full_chunk_moves_the_words_after_a_near_comma_to_the_next_chunk():
    tokens = [5] * 70 + [COMMA] + [6] * 10  # comma at position 70, 4 words after it in chunk 1
    chunks = chunk_tokens([tokens], COMMA)
    assert chunks == [[5] * 70 + [COMMA], [6] * 10]


def test_comma_further_back_than_20_tokens_is_ignored():
    tokens = [5] * 50 + [COMMA] + [6] * 40
    assert chunk_tokens([tokens], COMMA) == [tokens[:75], tokens[75:]]


def test_break_starts_a_new_chunk():
    assert chunk_tokens([[1, 2], [3]], COMMA) == [[1, 2], [3]]


def test_lora_tags_are_removed_from_the_text():
    assert strip_extra_networks("a cat <lora:foo:0.8>, best <LyCo:bar>") == "a cat , best "


def reference_sd(pipe, text: str, layer: int) -> torch.Tensor:
    """final_layer_norm(hidden_states[-layer]) on the tokenizer's own 77-token padding."""
    ids = pipe.tokenizer(
        text, padding="max_length", max_length=77, truncation=True, return_tensors="pt"
    ).input_ids
    with torch.no_grad():
        hidden = pipe.text_encoder(ids, output_hidden_states=True).hidden_states[-layer]
        return pipe.text_encoder.final_layer_norm(hidden)


@pytest.mark.parametrize("clip_skip", [1, 2])
def test_sd1_clip_skip_matches_the_encoder_hidden_states_for_both_prompts(tiny, clip_skip):
    pipe = tiny["sd1"].pipe
    got = encode_sd(pipe.tokenizer, pipe.text_encoder, "a red fox", "blurry, ugly", clip_skip)
    assert torch.equal(got.prompt, reference_sd(pipe, "a red fox", clip_skip))
    assert torch.equal(got.negative, reference_sd(pipe, "blurry, ugly", clip_skip))


def test_sd1_clip_skip_1_is_what_diffusers_computes_without_clip_skip(tiny):
    pipe = tiny["sd1"].pipe
    ours = encode_sd(pipe.tokenizer, pipe.text_encoder, "a red fox", "blurry", None)
    theirs, theirs_negative = pipe.encode_prompt(
        "a red fox", "cpu", 1, True, negative_prompt="blurry"
    )
    assert torch.allclose(ours.prompt, theirs, atol=1e-6)
    assert torch.allclose(ours.negative, theirs_negative, atol=1e-6)


def test_sd1_clip_skip_1_and_2_differ(tiny):
    pipe = tiny["sd1"].pipe
    one = encode_sd(pipe.tokenizer, pipe.text_encoder, "a red fox", "", 1)
    two = encode_sd(pipe.tokenizer, pipe.text_encoder, "a red fox", "", 2)
    assert not torch.allclose(one.prompt, two.prompt)


def test_long_prompt_is_encoded_in_chunks_and_the_negative_padded_to_match(tiny):
    pipe = tiny["sd1"].pipe
    first = " ".join(["cat"] * 75)
    got = encode_sd(pipe.tokenizer, pipe.text_encoder, first + " dog", "blurry", 1)
    assert got.prompt.shape[1] == got.negative.shape[1] == 154
    assert torch.equal(got.prompt[:, :77], reference_sd(pipe, first, 1))
    assert torch.equal(got.prompt[:, 77:], reference_sd(pipe, "dog", 1))
    assert torch.equal(got.negative[:, 77:], reference_sd(pipe, "", 1))


def test_sdxl_default_matches_diffusers_encode_prompt(tiny):
    pipe = tiny["sdxl"].pipe
    ours = encode_sdxl(
        [pipe.tokenizer, pipe.tokenizer_2],
        [pipe.text_encoder, pipe.text_encoder_2],
        "a red fox",
        "blurry",
        None,
    )
    embeds, negative, pooled, negative_pooled = pipe.encode_prompt(
        "a red fox", device="cpu", negative_prompt="blurry"
    )
    assert torch.allclose(ours.prompt, embeds, atol=1e-6)
    assert torch.allclose(ours.negative, negative, atol=1e-6)
    assert torch.allclose(ours.pooled, pooled, atol=1e-6)
    assert torch.allclose(ours.negative_pooled, negative_pooled, atol=1e-6)


def test_sdxl_clip_skip_2_is_diffusers_clip_skip_1(tiny):
    pipe = tiny["sdxl"].pipe
    ours = encode_sdxl(
        [pipe.tokenizer, pipe.tokenizer_2],
        [pipe.text_encoder, pipe.text_encoder_2],
        "a fox",
        "x",
        2,
    )
    embeds, *_ = pipe.encode_prompt("a fox", device="cpu", negative_prompt="x", clip_skip=1)
    assert torch.allclose(ours.prompt, embeds, atol=1e-6)
