"""Prompt embeddings with AUTOMATIC1111's semantics, computed here rather than by diffusers.

Why not ``pipe(prompt=..., clip_skip=...)``: diffusers truncates at 77 tokens, never applies
clip skip to the negative prompt, ignores emphasis, and its SD1 clip skip crashes with
transformers >= 5.6 (diffusers#14124). A1111 (``sd_hijack_clip``) instead:

* removes ``<lora:...>``-style extra-network tags from the text;
* reads emphasis with ``parse_prompt_attention`` (``pantry.recipes.prompt.parse_attention``):
  ``(word)`` x1.1, ``[word]`` /1.1, ``(word:1.3)``, ``\\(`` literal, ``BREAK``; each weighted
  piece is tokenized on its own;
* finds textual-inversion embedding names among the token ids (the name as the tokenizer
  spells it, so case does not matter) and gives their vectors as many token positions;
* cuts the tokens into chunks of 75 (``BREAK`` starts a new chunk; a chunk that fills up moves
  the words after its last comma, if within 20 tokens, to the next one; an embedding that does
  not fit moves whole), wraps each chunk as ``BOS, tokens, EOS, padding`` to 77, encodes the
  chunks one by one and concatenates them;
* pads the shorter of prompt and negative prompt with empty chunks so both have the same length;
* SD1/SD2: takes ``final_layer_norm(hidden_states[-N])`` for "Clip skip: N" (1 = last layer);
  SDXL: each encoder's ``hidden_states[-(N + 1)]`` side by side (penultimate by default, no
  final norm, as diffusers does) and the pooled embedding of the first chunk;
* applies emphasis per chunk and per encoder: "Original" (A1111's default) multiplies each
  token's vector by its weight, then rescales so the chunk's mean is what it was; the other
  settings of A1111's "Emphasis" option are in ``EMPHASIS_MODES``. The pooled SDXL embedding is
  taken before emphasis.

Prompt editing (``[from:to:when]``) is not scheduled: its brackets read as emphasis.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from pantry.errors import RenderError
from pantry.recipes.prompt import (
    BREAK,
    COMFY_EMBEDDING_RE,
    drop_model_extension,
    parse_attention,
    strip_extra_networks,
)

CHUNK_TOKENS = 75  # 77 positions minus BOS and EOS
COMMA_BACKTRACK = 20  # A1111's default "comma_padding_backtrack"
PLACEHOLDER_ID = 0  # what A1111 puts where embedding vectors go; the vectors replace it


class Emphasis(NamedTuple):
    parse: bool  # read brackets and BREAK (otherwise the text is encoded as written)
    weigh: bool  # multiply each token's vector by its weight
    normalize: bool  # then restore the chunk's mean


# A1111's "Emphasis" setting, as infotext writes it ("Emphasis: No norm")
EMPHASIS_MODES = {
    "Original": Emphasis(parse=True, weigh=True, normalize=True),
    "No norm": Emphasis(parse=True, weigh=True, normalize=False),
    "Ignore": Emphasis(parse=True, weigh=False, normalize=False),
    "None": Emphasis(parse=False, weigh=False, normalize=False),
}
DEFAULT_EMPHASIS = "Original"


@dataclass
class PromptEmbeddings:
    prompt: torch.Tensor  # (1, 77 * chunks, width)
    negative: torch.Tensor
    pooled: torch.Tensor | None = None  # SDXL only
    negative_pooled: torch.Tensor | None = None

    def pipeline_kwargs(self) -> dict[str, torch.Tensor]:
        kwargs = {"prompt_embeds": self.prompt, "negative_prompt_embeds": self.negative}
        if self.pooled is not None:
            kwargs["pooled_prompt_embeds"] = self.pooled
            kwargs["negative_pooled_prompt_embeds"] = self.negative_pooled
        return kwargs


@dataclass
class Chunk:
    """Up to 75 token ids with their emphasis weights; embeddings hold placeholder positions."""

    tokens: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    embeddings: list[tuple[int, str]] = field(default_factory=list)  # (position, name)

    def split(self, at: int) -> Chunk:
        """Cut the tokens from ``at`` on (with their embeddings) off into a new chunk."""
        rest = Chunk(
            self.tokens[at:],
            self.weights[at:],
            [(pos - at, name) for pos, name in self.embeddings if pos >= at],
        )
        del self.tokens[at:], self.weights[at:]
        self.embeddings = [(pos, name) for pos, name in self.embeddings if pos < at]
        return rest


@dataclass(frozen=True)
class EmbeddingWord:
    """An embedding's name as token ids, and how many vector positions it takes."""

    name: str
    ids: tuple[int, ...]
    vectors: int


Segment = tuple[list[int], float]  # token ids of one weighted piece of text, and its weight


def build_chunks(
    segments: Sequence[Segment | None], comma_id: int, words: Sequence[EmbeddingWord] = ()
) -> list[Chunk]:
    """Weighted token segments (None for BREAK) -> chunks of at most 75, A1111's way."""
    words = sorted(words, key=lambda word: len(word.ids), reverse=True)  # longest name wins
    chunks: list[Chunk] = []
    chunk = Chunk()
    last_comma = -1

    def close() -> None:
        nonlocal chunk, last_comma
        chunks.append(chunk)
        chunk, last_comma = Chunk(), -1

    for segment in segments:
        if segment is None:  # BREAK closes the chunk even when it is not full
            close()
            continue
        tokens, weight = segment
        position = 0
        while position < len(tokens):
            word = _word_at(tokens, position, words)
            if word is not None:
                if len(chunk.tokens) + word.vectors > CHUNK_TOKENS:
                    close()
                chunk.embeddings.append((len(chunk.tokens), word.name))
                chunk.tokens += [PLACEHOLDER_ID] * word.vectors
                chunk.weights += [weight] * word.vectors
                position += len(word.ids)
                continue
            token = tokens[position]
            if token == comma_id:
                last_comma = len(chunk.tokens)
            elif (
                len(chunk.tokens) == CHUNK_TOKENS
                and last_comma != -1
                and len(chunk.tokens) - last_comma <= COMMA_BACKTRACK
            ):
                moved = chunk.split(last_comma + 1)
                close()
                chunk = moved
            if len(chunk.tokens) == CHUNK_TOKENS:
                close()
            chunk.tokens.append(token)
            chunk.weights.append(weight)
            position += 1
    if chunk.tokens or not chunks:
        chunks.append(chunk)
    return chunks


def prompt_chunks(
    tokenizer, text: str, embedding_vectors: Mapping[str, int] | None = None, parse: bool = True
):
    """A prompt's chunks for one tokenizer; ``embedding_vectors``: name -> vector count.

    ``parse=False`` (A1111's emphasis "None") encodes brackets and BREAK as written.
    """
    embedding_vectors = embedding_vectors or {}
    text = _plain_embedding_names(strip_extra_networks(text), embedding_vectors)
    pieces = parse_attention(text) if parse else [(text, 1.0)]
    texts = [piece for piece, _ in pieces if piece is not BREAK]
    ids = iter(
        tokenizer(texts, add_special_tokens=False, truncation=False).input_ids if texts else []
    )
    segments = [None if piece is BREAK else (next(ids), weight) for piece, weight in pieces]
    words = [
        EmbeddingWord(name, tuple(_name_ids(tokenizer, name)), count)
        for name, count in embedding_vectors.items()
    ]
    return build_chunks(segments, tokenizer.convert_tokens_to_ids(",</w>"), words)


def chunk_ids(tokenizer, chunk: Chunk) -> list[int]:
    """BOS, tokens, EOS, then the tokenizer's padding to 77 (EOS for CLIP, "!" for OpenCLIP)."""
    padding = [tokenizer.pad_token_id] * (CHUNK_TOKENS - len(chunk.tokens))
    return [tokenizer.bos_token_id, *chunk.tokens, tokenizer.eos_token_id, *padding]


def chunk_weights(chunk: Chunk) -> list[float]:
    return [1.0, *chunk.weights, *[1.0] * (CHUNK_TOKENS + 1 - len(chunk.tokens))]


def emphasize(
    hidden: torch.Tensor, weights: Sequence[float], emphasis: Emphasis = EMPHASIS_MODES["Original"]
) -> torch.Tensor:
    """Scale each position by its weight, then (normally) restore the chunk's mean."""
    if not emphasis.weigh or all(weight == 1.0 for weight in weights):
        return hidden
    z = hidden.float()
    original_mean = z.mean()
    z = z * torch.tensor(weights, dtype=z.dtype, device=z.device).reshape(1, -1, 1)
    if emphasis.normalize:
        z = z * (original_mean / z.mean())
    return z.to(hidden.dtype)


def emphasis_mode(name: str | None) -> Emphasis:
    name = name or DEFAULT_EMPHASIS
    if name not in EMPHASIS_MODES:
        known = ", ".join(EMPHASIS_MODES)
        raise RenderError(f"emphasis {name!r} is not known; use one of: {known}")
    return EMPHASIS_MODES[name]


def encode_sd(
    tokenizer,
    text_encoder,
    prompt: str,
    negative: str,
    clip_skip: int | None,
    embeddings: Sequence = (),
    emphasis: str | None = None,
):
    """SD1/SD2 embeddings: ``final_layer_norm(hidden_states[-clip_skip])`` per chunk.

    ``embeddings``: ``pantry.render.embeddings.TextualInversion`` values the prompts may name;
    ``emphasis``: a key of ``EMPHASIS_MODES`` (None: "Original").
    """
    layer = _layer_from_end(text_encoder, clip_skip or 1)
    norm = _final_layer_norm(text_encoder)
    mode = emphasis_mode(emphasis)
    vectors = {ti.name: ti.vectors[0] for ti in embeddings}
    chunks, negative_chunks = _paired_chunks([tokenizer], prompt, negative, embeddings, mode)

    def encode(chunk_list: list[Chunk]) -> torch.Tensor:
        parts = []
        for chunk in chunk_list:
            output = _encode_chunk(text_encoder, tokenizer, chunk, vectors)
            hidden = norm(output.hidden_states[-layer])
            parts.append(emphasize(hidden, chunk_weights(chunk), mode))
        return torch.cat(parts, dim=1)

    with torch.no_grad():
        return PromptEmbeddings(encode(chunks[0]), encode(negative_chunks[0]))


def encode_sdxl(
    tokenizers,
    text_encoders,
    prompt: str,
    negative: str,
    clip_skip: int | None,
    embeddings: Sequence = (),
    emphasis: str | None = None,
):
    """SDXL embeddings: both encoders' ``hidden_states[-(clip_skip + 1)]`` side by side."""
    layer = (clip_skip or 1) + 1
    for encoder in text_encoders:
        _layer_from_end(encoder, layer)
    mode = emphasis_mode(emphasis)
    vectors = [{ti.name: ti.vectors[i] for ti in embeddings} for i in range(len(text_encoders))]
    chunks, negative_chunks = _paired_chunks(tokenizers, prompt, negative, embeddings, mode)

    def encode(per_encoder_chunks: list[list[Chunk]]):
        parts, pooled = [], None
        for index in range(len(per_encoder_chunks[0])):
            widths = []
            for tokenizer, encoder, encoder_chunks, encoder_vectors in zip(
                tokenizers, text_encoders, per_encoder_chunks, vectors, strict=True
            ):
                chunk = encoder_chunks[index]
                output = _encode_chunk(encoder, tokenizer, chunk, encoder_vectors)
                widths.append(emphasize(output.hidden_states[-layer], chunk_weights(chunk), mode))
                if pooled is None and hasattr(output, "text_embeds"):
                    pooled = output.text_embeds  # A1111 pools the first chunk only
            parts.append(torch.cat(widths, dim=-1))
        return torch.cat(parts, dim=1), pooled

    with torch.no_grad():
        embeds, pooled = encode(chunks)
        negative_embeds, negative_pooled = encode(negative_chunks)
    return PromptEmbeddings(embeds, negative_embeds, pooled, negative_pooled)


def _paired_chunks(tokenizers, prompt: str, negative: str, embeddings: Sequence, mode: Emphasis):
    """Chunks per tokenizer for prompt and negative, padded with empty chunks to equal counts."""
    counts = {ti.name: ti.count for ti in embeddings}
    chunks = [prompt_chunks(t, prompt, counts, mode.parse) for t in tokenizers]
    negative_chunks = [prompt_chunks(t, negative, counts, mode.parse) for t in tokenizers]
    count = max(len(chunks[0]), len(negative_chunks[0]))
    for chunk_list in (*chunks, *negative_chunks):
        chunk_list.extend(Chunk() for _ in range(count - len(chunk_list)))
    return chunks, negative_chunks


def _encode_chunk(text_encoder, tokenizer, chunk: Chunk, vectors: Mapping[str, torch.Tensor]):
    ids = torch.tensor([chunk_ids(tokenizer, chunk)], device=text_encoder.device)
    rows = {position + 1: vectors[name] for position, name in chunk.embeddings}  # +1: BOS
    with _token_vectors(text_encoder, rows):
        return text_encoder(ids, output_hidden_states=True)


@contextlib.contextmanager
def _token_vectors(text_encoder, rows: Mapping[int, torch.Tensor]) -> Iterator[None]:
    """Token embeddings at these positions replaced by embedding vectors, for one forward pass.

    A1111 does the same (``EmbeddingsWithFixes``) rather than adding tokens to the tokenizer:
    names then match on token ids like any word, and the model is left as it was.
    """
    if not rows:
        yield
        return

    def replace(_module, _inputs, output: torch.Tensor) -> torch.Tensor:
        output = output.clone()
        for start, vectors in rows.items():
            output[:, start : start + len(vectors)] = vectors.to(output)
        return output

    handle = text_encoder.get_input_embeddings().register_forward_hook(replace)
    try:
        yield
    finally:
        handle.remove()


def _word_at(tokens: list[int], position: int, words: Sequence[EmbeddingWord]):
    for word in words:
        if tuple(tokens[position : position + len(word.ids)]) == word.ids:
            return word
    return None


def _name_ids(tokenizer, name: str) -> list[int]:
    ids = tokenizer(name, add_special_tokens=False, truncation=False).input_ids
    if not ids:
        raise RenderError(f"embedding name {name!r} has no tokens to match in a prompt")
    return ids


def _plain_embedding_names(text: str, embedding_vectors: Mapping[str, int]) -> str:
    """ComfyUI's ``embedding:NAME`` -> ``NAME`` for the embeddings at hand."""
    names = {name.lower() for name in embedding_vectors}

    def plain(match) -> str:
        name = drop_model_extension(match.group(1))
        return name if name.lower() in names else match.group(0)

    return COMFY_EMBEDDING_RE.sub(plain, text)


def _layer_from_end(text_encoder, layer: int) -> int:
    layers = text_encoder.config.num_hidden_layers
    if not 1 <= layer <= layers:
        raise RenderError(
            f"clip skip {layer} is out of range: the text encoder has {layers} layers"
        )
    return layer


def _final_layer_norm(text_encoder):
    # transformers >= 5.6 flattened CLIPTextModel; older versions keep it under ``text_model``
    owner = getattr(text_encoder, "text_model", text_encoder)
    return owner.final_layer_norm
