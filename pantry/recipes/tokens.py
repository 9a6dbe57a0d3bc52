"""CLIP token counts of prompts, as A1111 chunks them (75 tokens per chunk).

The tokenizer is built with the ``tokenizers`` library from the bundled vocabulary in
``pantry/data/clip_tokenizer`` and configured like transformers' CLIPTokenizer (NFC,
whitespace collapse, lower-case, CLIP's split pattern, byte-level BPE with ``</w>``
end-of-word), so counts match the text encoder without importing torch or transformers.
It is built once per process, on first use.
"""

from __future__ import annotations

import functools
from importlib import resources

from tokenizers import AddedToken, Regex, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import BPE

from pantry.recipes.prompt import encoder_segments

CHUNK_TOKENS = 75  # A1111: 77 minus the start and end tokens
COMMA_BACKTRACK = 20  # A1111's default "comma padding backtrack"
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
# CLIP's pre-tokenization pattern (transformers' CLIPTokenizer): specials, contractions,
# letter runs, single digits, punctuation runs.
CLIP_SPLIT = (
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
)


def count_tokens(text: str) -> int:
    """CLIP tokens of the prompt text the encoder sees (no start/end tokens).

    LoRA tags, emphasis syntax and BREAK do not count; with prompt editing (``[a:b:0.5]``)
    the longest variant counts.
    """
    return max(sum(_segment_ids(variant, flat=True)) for variant in encoder_segments(text))


def chunks(text: str) -> list[int]:
    """Tokens in each A1111 75-token chunk, for the longest prompt-editing variant.

    A chunk ends at 75 tokens (moving the words after the last comma to the next chunk when
    that comma is within 20 tokens of the end, as A1111 does) or at BREAK.
    """
    best: list[int] = [0]
    for variant in encoder_segments(text):
        counts = _chunk_counts(_segment_ids(variant))
        if sum(counts) > sum(best) or (sum(counts) == sum(best) and len(counts) > len(best)):
            best = counts
    return best


def encode(text: str) -> list[int]:
    """CLIP token ids of plain text with start and end tokens, like CLIPTokenizer."""
    tokenizer = clip_tokenizer()
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    return [tokenizer.token_to_id(BOS), *ids, tokenizer.token_to_id(EOS)]


@functools.cache
def clip_tokenizer() -> Tokenizer:
    """The CLIP BPE tokenizer from the bundled vocabulary (built once, then cached)."""
    folder = resources.files("pantry.data") / "clip_tokenizer"
    with (
        resources.as_file(folder / "vocab.json") as vocab,
        resources.as_file(folder / "merges.txt") as merges,
    ):
        model = BPE.from_file(
            str(vocab),
            str(merges),
            continuing_subword_prefix="",
            end_of_word_suffix="</w>",
            fuse_unk=False,
            unk_token=EOS,
        )
    tokenizer = Tokenizer(model)
    # transformers registers these as special tokens: written in a prompt, each is one token.
    tokenizer.add_special_tokens([AddedToken(BOS, special=True), AddedToken(EOS, special=True)])
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    return tokenizer


def _segment_ids(segments: list[str | None], flat: bool = False) -> list:
    """Token ids per segment (None stays None for BREAK); with ``flat``, counts only."""
    tokenizer = clip_tokenizer()
    texts = [text for text in segments if text is not None]
    encoded = iter(tokenizer.encode_batch(texts, add_special_tokens=False)) if texts else iter(())
    result: list = []
    for text in segments:
        ids = None if text is None else next(encoded).ids
        result.append(len(ids or []) if flat else ids)
    return result


def _chunk_counts(segments: list[list[int] | None]) -> list[int]:
    comma = clip_tokenizer().token_to_id(",</w>")
    counts: list[int] = []
    current: list[int] = []
    last_comma = -1
    for ids in segments:
        if ids is None:  # BREAK closes the chunk, even an empty one
            counts.append(len(current))
            current, last_comma = [], -1
            continue
        for token in ids:
            if token == comma:
                last_comma = len(current)
            elif (
                len(current) == CHUNK_TOKENS
                and last_comma != -1
                and len(current) - last_comma <= COMMA_BACKTRACK
            ):
                counts.append(last_comma + 1)
                current, last_comma = current[last_comma + 1 :], -1
            if len(current) == CHUNK_TOKENS:
                counts.append(len(current))
                current, last_comma = [], -1
            current.append(token)
    if current or not counts:
        counts.append(len(current))
    return counts
