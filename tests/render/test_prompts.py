"""Prompt embeddings: A1111 chunking, emphasis, clip skip and textual inversion, checked against
the text encoders (and diffusers' own textual-inversion loader) directly."""

from __future__ import annotations

import copy

import pytest
import torch

from pantry.errors import RenderError
from pantry.render.embeddings import load_embedding
from pantry.render.prompts import (
    EmbeddingWord,
    build_chunks,
    encode_sd,
    encode_sdxl,
    prompt_chunks,
    strip_extra_networks,
)
from tests.render.models import write_embedding

COMMA = 267  # any id works: chunking only compares tokens with it


def chunked(*segments, words=()):
    """Token lists of the chunks built from plain (weight 1) segments; None is a BREAK."""
    parts = [None if s is None else (s, 1.0) for s in segments]
    return [chunk.tokens for chunk in build_chunks(parts, COMMA, words)]


def test_short_prompt_is_one_chunk():
    assert chunked([1, 2, 3]) == [[1, 2, 3]]


def test_empty_prompt_is_one_empty_chunk():
    assert chunked([]) == [[]]


def test_long_prompt_without_commas_splits_at_75():
    tokens = list(range(1000, 1100))
    assert chunked(tokens) == [tokens[:75], tokens[75:]]


def test_full_chunk_moves_the_words_after_a_near_comma_to_the_next_chunk():
    tokens = [5] * 70 + [COMMA] + [6] * 10  # comma at position 70, 4 words after it in chunk 1
    assert chunked(tokens) == [[5] * 70 + [COMMA], [6] * 10]


def test_comma_further_back_than_20_tokens_is_ignored():
    tokens = [5] * 50 + [COMMA] + [6] * 40
    assert chunked(tokens) == [tokens[:75], tokens[75:]]


def test_break_starts_a_new_chunk():
    assert chunked([1, 2], None, [3]) == [[1, 2], [3]]


def test_lora_tags_are_removed_from_the_text():
    assert strip_extra_networks("a cat <lora:foo:0.8>, best <LyCo:bar>") == "a cat , best "


def test_emphasis_weights_follow_a1111_brackets(tiny):
    tokenizer = tiny["sd1"].pipe.tokenizer
    (chunk,) = prompt_chunks(tokenizer, r"a ((red)) [fox] (snow:1.3) \(cat\)")
    plain = tokenizer("a red fox snow (cat)", add_special_tokens=False).input_ids
    assert chunk.tokens == plain
    expected = [1.0, 1.1 * 1.1, 1 / 1.1, 1.3, 1.0, 1.0, 1.0]
    assert chunk.weights == pytest.approx(expected)


def test_break_keyword_in_a_prompt_splits_it(tiny):
    tokenizer = tiny["sd1"].pipe.tokenizer
    chunks = prompt_chunks(tokenizer, "a cat BREAK (a dog:1.2)")
    assert [c.tokens for c in chunks] == [
        tokenizer("a cat", add_special_tokens=False).input_ids,
        tokenizer("a dog", add_special_tokens=False).input_ids,
    ]
    assert chunks[1].weights == [1.2, 1.2]


def reference_sd(tokenizer, text_encoder, text: str, layer: int) -> torch.Tensor:
    """final_layer_norm(hidden_states[-layer]) on the tokenizer's own 77-token padding."""
    ids = tokenizer(
        text, padding="max_length", max_length=77, truncation=True, return_tensors="pt"
    ).input_ids
    with torch.no_grad():
        hidden = text_encoder(ids, output_hidden_states=True).hidden_states[-layer]
        return text_encoder.final_layer_norm(hidden)


def emphasized(z: torch.Tensor, weights: list[float]) -> torch.Tensor:
    """A1111 sd_hijack_clip: z * weights, then z * (original mean / new mean)."""
    w = torch.tensor(weights + [1.0] * (z.shape[1] - len(weights))).reshape(1, -1, 1)
    scaled = z * w
    return scaled * (z.mean() / scaled.mean())


@pytest.mark.parametrize("clip_skip", [1, 2])
def test_sd1_clip_skip_matches_the_encoder_hidden_states_for_both_prompts(tiny, clip_skip):
    pipe = tiny["sd1"].pipe
    got = encode_sd(pipe.tokenizer, pipe.text_encoder, "a red fox", "blurry, ugly", clip_skip)
    ref = reference_sd(pipe.tokenizer, pipe.text_encoder, "a red fox", clip_skip)
    assert torch.equal(got.prompt, ref)
    ref = reference_sd(pipe.tokenizer, pipe.text_encoder, "blurry, ugly", clip_skip)
    assert torch.equal(got.negative, ref)


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
    tok, te = pipe.tokenizer, pipe.text_encoder
    first = " ".join(["cat"] * 75)
    got = encode_sd(tok, te, first + " dog", "blurry", 1)
    assert got.prompt.shape[1] == got.negative.shape[1] == 154
    assert torch.equal(got.prompt[:, :77], reference_sd(tok, te, first, 1))
    assert torch.equal(got.prompt[:, 77:], reference_sd(tok, te, "dog", 1))
    assert torch.equal(got.negative[:, 77:], reference_sd(tok, te, "", 1))


def test_weighted_prompt_differs_from_the_plain_one(tiny):
    pipe = tiny["sd1"].pipe
    plain = encode_sd(pipe.tokenizer, pipe.text_encoder, "a red fox", "", 1)
    weighted = encode_sd(pipe.tokenizer, pipe.text_encoder, "a (red:1.5) fox", "", 1)
    assert not torch.allclose(plain.prompt, weighted.prompt)


def test_explicit_weight_one_is_the_plain_text(tiny):
    pipe = tiny["sd1"].pipe
    plain = encode_sd(pipe.tokenizer, pipe.text_encoder, "a red fox", "", 1)
    explicit = encode_sd(pipe.tokenizer, pipe.text_encoder, "a (red fox:1.0)", "", 1)
    assert torch.equal(plain.prompt, explicit.prompt)


@pytest.mark.parametrize("clip_skip", [1, 2])
def test_sd1_emphasis_matches_a1111_on_the_encoder_hidden_states(tiny, clip_skip):
    pipe = tiny["sd1"].pipe
    tok, te = pipe.tokenizer, pipe.text_encoder
    got = encode_sd(tok, te, "a (red:1.5) [fox]", "(blurry)", clip_skip)
    # positions: BOS, a, red, fox, EOS...; each of these words is one CLIP token
    expected = emphasized(reference_sd(tok, te, "a red fox", clip_skip), [1.0, 1.0, 1.5, 1 / 1.1])
    assert torch.allclose(got.prompt, expected, atol=1e-6)
    negative = emphasized(reference_sd(tok, te, "blurry", clip_skip), [1.0, 1.1])
    assert torch.allclose(got.negative, negative, atol=1e-6)


def test_no_norm_emphasis_multiplies_without_restoring_the_mean(tiny):
    pipe = tiny["sd1"].pipe
    tok, te = pipe.tokenizer, pipe.text_encoder
    got = encode_sd(tok, te, "a (red:1.5) fox", "", 1, emphasis="No norm")
    weights = torch.tensor([1.0, 1.0, 1.5] + [1.0] * 74).reshape(1, -1, 1)
    assert torch.allclose(got.prompt, reference_sd(tok, te, "a red fox", 1) * weights, atol=1e-6)


def test_emphasis_none_encodes_the_brackets_as_written(tiny):
    pipe = tiny["sd1"].pipe
    tok, te = pipe.tokenizer, pipe.text_encoder
    got = encode_sd(tok, te, "a (red:1.5) fox", "", 1, emphasis="None")
    assert torch.equal(got.prompt, reference_sd(tok, te, "a (red:1.5) fox", 1))
    ignored = encode_sd(tok, te, "a (red:1.5) fox", "", 1, emphasis="Ignore")
    assert torch.equal(ignored.prompt, reference_sd(tok, te, "a red fox", 1))


def test_unknown_emphasis_setting_is_an_error(tiny):
    pipe = tiny["sd1"].pipe
    with pytest.raises(RenderError, match="emphasis 'Loud' is not known"):
        encode_sd(pipe.tokenizer, pipe.text_encoder, "a fox", "", 1, emphasis="Loud")


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


def test_sdxl_emphasis_rescales_each_encoder_on_its_own_and_keeps_the_pooled(tiny):
    pipe = tiny["sdxl"].pipe
    tokenizers, encoders = (
        [pipe.tokenizer, pipe.tokenizer_2],
        [pipe.text_encoder, pipe.text_encoder_2],
    )
    ours = encode_sdxl(tokenizers, encoders, "a (red:1.4) fox", "", None)
    embeds, _, pooled, _ = pipe.encode_prompt("a red fox", device="cpu", negative_prompt="")
    width = pipe.text_encoder.config.hidden_size
    weights = [1.0, 1.0, 1.4]
    expected = torch.cat(
        [emphasized(embeds[..., :width], weights), emphasized(embeds[..., width:], weights)], -1
    )
    assert torch.allclose(ours.prompt, expected, atol=1e-6)
    assert torch.allclose(ours.pooled, pooled, atol=1e-6)


# -- textual inversion ---------------------------------------------------------------------


def diffusers_reference(pipe, path, name: str, text: str, vectors: int) -> torch.Tensor:
    """The prompt through diffusers' load_textual_inversion, on copies of tokenizer and encoder.

    diffusers adds tokens NAME, NAME_1, ... and expects the prompt to spell them all out.
    """
    tokenizer, encoder = copy.deepcopy(pipe.tokenizer), copy.deepcopy(pipe.text_encoder)
    pipe.load_textual_inversion(str(path), token=name, tokenizer=tokenizer, text_encoder=encoder)
    spelled = " ".join([name] + [f"{name}_{i}" for i in range(1, vectors)])
    return reference_sd(tokenizer, encoder, text.replace(name, spelled), 1)


@pytest.mark.parametrize("fmt", ["safetensors", "a1111_pt"])
def test_embedding_in_the_prompt_matches_diffusers_textual_inversion(tiny, tmp_path, fmt):
    pipe = tiny["sd1"].pipe
    path = write_embedding(tmp_path / "mystyle", fmt, widths=[32], vectors=2)
    embedding = load_embedding(path, "mystyle", [32])
    text = "a photo of mystyle, at dusk"
    ours = encode_sd(pipe.tokenizer, pipe.text_encoder, text, "", 1, [embedding])
    expected = diffusers_reference(pipe, path, "mystyle", text, vectors=2)
    assert torch.allclose(ours.prompt, expected, atol=1e-5)
    plain = encode_sd(pipe.tokenizer, pipe.text_encoder, text, "", 1)
    assert not torch.allclose(ours.prompt, plain.prompt)


def test_embedding_name_matches_case_insensitively_and_in_comfy_syntax(tiny, tmp_path):
    pipe = tiny["sd1"].pipe
    path = write_embedding(tmp_path / "mystyle", "safetensors", widths=[32], vectors=1)
    embedding = load_embedding(path, "MyStyle", [32])
    tok, te = pipe.tokenizer, pipe.text_encoder
    a = encode_sd(tok, te, "a photo of mystyle", "", 1, [embedding]).prompt
    b = encode_sd(tok, te, "a photo of MYSTYLE", "", 1, [embedding]).prompt
    c = encode_sd(tok, te, "a photo of embedding:mystyle.safetensors", "", 1, [embedding]).prompt
    assert torch.equal(a, b) and torch.equal(a, c)


def test_weighted_embedding_is_emphasized_like_a_word(tiny, tmp_path):
    pipe = tiny["sd1"].pipe
    path = write_embedding(tmp_path / "mystyle", "safetensors", widths=[32], vectors=2)
    embedding = load_embedding(path, "mystyle", [32])
    (chunk,) = prompt_chunks(pipe.tokenizer, "a (mystyle:1.2) cat", {"mystyle": 2})
    assert chunk.weights == [1.0, 1.2, 1.2, 1.0]
    assert chunk.embeddings == [(1, "mystyle")]
    plain = encode_sd(pipe.tokenizer, pipe.text_encoder, "a mystyle cat", "", 1, [embedding])
    weighted = encode_sd(
        pipe.tokenizer, pipe.text_encoder, "a (mystyle:1.2) cat", "", 1, [embedding]
    )
    # positions: BOS, a, the two vectors, cat
    assert torch.allclose(weighted.prompt, emphasized(plain.prompt, [1.0, 1.0, 1.2, 1.2]))


def test_embedding_that_does_not_fit_moves_to_the_next_chunk():
    word_ids = (900, 901)
    words = [EmbeddingWord("style", word_ids, vectors=4)]
    chunks = build_chunks([([7] * 73 + list(word_ids), 1.0)], COMMA, words)
    assert [len(c.tokens) for c in chunks] == [73, 4]
    assert chunks[1].embeddings == [(0, "style")]


def test_sdxl_embedding_gives_each_encoder_its_own_vectors(tiny, tmp_path):
    pipe = tiny["sdxl"].pipe
    path = write_embedding(tmp_path / "xlstyle", "sdxl", widths=[32, 48], vectors=2)
    embedding = load_embedding(path, "xlstyle", [32, 48])
    tokenizers, encoders = (
        [pipe.tokenizer, pipe.tokenizer_2],
        [pipe.text_encoder, pipe.text_encoder_2],
    )
    ours = encode_sdxl(tokenizers, encoders, "a xlstyle fox", "", None, [embedding])
    plain = encode_sdxl(tokenizers, encoders, "a xlstyle fox", "", None)
    assert not torch.allclose(ours.prompt[..., :32], plain.prompt[..., :32])
    assert not torch.allclose(ours.prompt[..., 32:], plain.prompt[..., 32:])
    assert not torch.allclose(ours.pooled, plain.pooled)


def test_embedding_for_another_width_is_an_error(tmp_path):
    path = write_embedding(tmp_path / "wide", "safetensors", widths=[768], vectors=1)
    with pytest.raises(RenderError, match=r"wide\.safetensors: embedding vectors are 768 wide"):
        load_embedding(path, "wide", [32])


def test_sd1_embedding_on_sdxl_is_an_error(tmp_path):
    path = write_embedding(tmp_path / "sd1style", "safetensors", widths=[32], vectors=1)
    with pytest.raises(RenderError, match=r"sd1style\.safetensors: .*needs clip_l and clip_g"):
        load_embedding(path, "sd1style", [32, 48])


def test_file_that_is_not_an_embedding_is_an_error(tiny):
    with pytest.raises(RenderError, match=r"kohya_sd1\.safetensors: expected one set"):
        load_embedding(tiny["lora_sd1"], "kohya_sd1", [32])
