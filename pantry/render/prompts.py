"""Prompt embeddings with AUTOMATIC1111's semantics, computed here rather than by diffusers.

Why not ``pipe(prompt=..., clip_skip=...)``: diffusers truncates at 77 tokens, never applies
clip skip to the negative prompt, and its SD1 clip skip crashes with transformers >= 5.6
(diffusers#14124). A1111 instead:

* removes ``<lora:...>``-style extra-network tags from the text;
* cuts the tokens into chunks of 75 (``BREAK`` starts a new chunk; a chunk that fills up moves
  the words after its last comma, if within 20 tokens, to the next one), wraps each chunk as
  ``BOS, tokens, EOS, padding`` to 77, encodes the chunks one by one and concatenates them;
* pads the shorter of prompt and negative prompt with empty chunks so both have the same
  length;
* SD1/SD2: takes ``final_layer_norm(hidden_states[-N])`` for "Clip skip: N" (1 = last layer);
* SDXL: concatenates both encoders' ``hidden_states[-(N + 1)]`` (penultimate by default, no
  final norm, as diffusers does) and takes the pooled embedding from the first chunk.

Emphasis syntax such as ``(word:1.2)`` is not interpreted yet: the brackets are encoded as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from pantry.errors import RenderError

CHUNK_TOKENS = 75  # 77 positions minus BOS and EOS
COMMA_BACKTRACK = 20  # A1111's default "comma_padding_backtrack"
EXTRA_NETWORK_TAG = re.compile(r"<(?:lora|lyco|hypernet):[^>]*>", re.IGNORECASE)
BREAK = re.compile(r"\s*\bBREAK\b\s*")


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


def strip_extra_networks(prompt: str) -> str:
    return EXTRA_NETWORK_TAG.sub("", prompt)


def chunk_tokens(segments: list[list[int]], comma_id: int) -> list[list[int]]:
    """Token ids (one list per BREAK-separated segment) -> chunks of at most 75, A1111's way."""
    chunks: list[list[int]] = []
    current: list[int] = []
    last_comma = -1
    for segment_index, segment in enumerate(segments):
        if segment_index > 0:  # BREAK closes the chunk even when it is not full
            chunks.append(current)
            current, last_comma = [], -1
        for token in segment:
            if token == comma_id:
                last_comma = len(current)
            elif (
                len(current) == CHUNK_TOKENS
                and last_comma != -1
                and len(current) - last_comma <= COMMA_BACKTRACK
            ):
                moved = current[last_comma + 1 :]
                chunks.append(current[: last_comma + 1])
                current, last_comma = moved, -1
            if len(current) == CHUNK_TOKENS:
                chunks.append(current)
                current, last_comma = [], -1
            current.append(token)
    if current or not chunks:
        chunks.append(current)
    return chunks


def tokenize_chunks(tokenizer, text: str) -> list[list[int]]:
    text = strip_extra_networks(text)
    segments = [
        tokenizer(part, add_special_tokens=False, truncation=False).input_ids
        for part in BREAK.split(text)
    ]
    comma_id = tokenizer.convert_tokens_to_ids(",</w>")
    return chunk_tokens(segments, comma_id)


def chunk_ids(tokenizer, chunk: list[int]) -> list[int]:
    """BOS, tokens, EOS, then the tokenizer's padding to 77 (EOS for CLIP, "!" for OpenCLIP)."""
    padding = [tokenizer.pad_token_id] * (CHUNK_TOKENS - len(chunk))
    return [tokenizer.bos_token_id, *chunk, tokenizer.eos_token_id, *padding]


def encode_sd(tokenizer, text_encoder, prompt: str, negative: str, clip_skip: int | None):
    """SD1/SD2 embeddings: ``final_layer_norm(hidden_states[-clip_skip])`` per chunk."""
    layer = _layer_from_end(text_encoder, clip_skip or 1)
    norm = _final_layer_norm(text_encoder)
    chunks, negative_chunks = _paired_chunks([tokenizer], prompt, negative)

    def encode(chunk_list):
        parts = []
        for chunk in chunk_list:
            hidden = _hidden_states(text_encoder, tokenizer, chunk).hidden_states[-layer]
            parts.append(norm(hidden))
        return torch.cat(parts, dim=1)

    with torch.no_grad():
        return PromptEmbeddings(encode(chunks[0]), encode(negative_chunks[0]))


def encode_sdxl(tokenizers, text_encoders, prompt: str, negative: str, clip_skip: int | None):
    """SDXL embeddings: both encoders' ``hidden_states[-(clip_skip + 1)]`` side by side."""
    layer = (clip_skip or 1) + 1
    for encoder in text_encoders:
        _layer_from_end(encoder, layer)
    chunks, negative_chunks = _paired_chunks(tokenizers, prompt, negative)

    def encode(per_encoder_chunks):
        parts, pooled = [], None
        for index in range(len(per_encoder_chunks[0])):
            widths = []
            for tokenizer, encoder, encoder_chunks in zip(
                tokenizers, text_encoders, per_encoder_chunks, strict=True
            ):
                output = _hidden_states(encoder, tokenizer, encoder_chunks[index])
                widths.append(output.hidden_states[-layer])
                if pooled is None and hasattr(output, "text_embeds"):
                    pooled = output.text_embeds  # A1111 pools the first chunk only
            parts.append(torch.cat(widths, dim=-1))
        return torch.cat(parts, dim=1), pooled

    with torch.no_grad():
        embeds, pooled = encode(chunks)
        negative_embeds, negative_pooled = encode(negative_chunks)
    return PromptEmbeddings(embeds, negative_embeds, pooled, negative_pooled)


def _paired_chunks(tokenizers, prompt: str, negative: str):
    """Chunks per tokenizer for prompt and negative, padded with empty chunks to equal counts."""
    chunks = [tokenize_chunks(t, prompt) for t in tokenizers]
    negative_chunks = [tokenize_chunks(t, negative) for t in tokenizers]
    count = max(len(chunks[0]), len(negative_chunks[0]))
    for chunk_list in (*chunks, *negative_chunks):
        chunk_list.extend([] for _ in range(count - len(chunk_list)))
    return chunks, negative_chunks


def _hidden_states(text_encoder, tokenizer, chunk: list[int]):
    ids = torch.tensor([chunk_ids(tokenizer, chunk)], device=text_encoder.device)
    return text_encoder(ids, output_hidden_states=True)


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
