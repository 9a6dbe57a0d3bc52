"""PP5xx: does the prompt say what the assets need, within what the text encoder reads?"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from pantry.lint.context import LintContext
from pantry.lint.findings import Hit
from pantry.lint.registry import Family, Severity, rule
from pantry.lint.rules._common import found, label, usable_checkpoint
from pantry.lint.tables import (
    CHUNK_TOKENS,
    DECLARED_TRIGGER_SOURCES,
    NO_CLIP_BASES,
    PONY_TAGS,
    T5_PROMPT_TOKENS,
    T5_PROMPT_TOKENS_BY_EDITION,
    TRIGGER_EVIDENCE,
)
from pantry.recipes.model import Resolution, ResolvedRecipe
from pantry.recipes.prompt import strip_extra_networks


@rule(
    "PP501",
    "prompt-over-one-chunk",
    Family.PROMPT,
    Severity.INFO,
    "A prompt is longer than one 75-token CLIP chunk",
)
def prompt_over_one_chunk(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    CLIP reads 77 positions: a start token, 75 prompt tokens and an end token. Counted with
    the real CLIP tokenizer (after removing `<lora:...>` tags), a longer prompt is split the
    way A1111 does: into chunks of 75 that are encoded separately and concatenated; pantry's
    renderer does the same. Plain diffusers and many other tools truncate at 77 instead and
    silently drop the rest, so the same recipe renders differently there. Words near a chunk
    boundary also lose their context.

    Flux and Chroma read the prompt through T5 and take only a pooled vector from CLIP, so
    there are no chunks: the rule speaks only when the prompt is longer than the T5 length
    diffusers reads (512 tokens, 256 for Flux schnell), counted with CLIP's tokenizer as an
    estimate. Models with no CLIP text encoder (Flux.2) are not checked.

    Example: a 120-token prompt becomes 2 chunks (75 + 45).
    """
    if context.count_tokens is None:
        return
    recipe = resolved.recipe
    ckpt = usable_checkpoint(resolved)
    identity = ckpt.asset.identity if ckpt else None
    if identity and identity.base in NO_CLIP_BASES:
        return
    t5_limit = (
        T5_PROMPT_TOKENS_BY_EDITION.get(identity.edition or "")
        or T5_PROMPT_TOKENS.get(identity.base)
        if identity
        else None
    )
    for field_name, text in (
        ("prompt", recipe.prompt),
        ("negative_prompt", recipe.negative_prompt),
    ):
        tokens = context.count_tokens(strip_extra_networks(text))
        words = field_name.replace("_", " ")
        if t5_limit is not None:
            if tokens > t5_limit:
                yield Hit(
                    f"{words} is about {tokens} tokens (CLIP count): {label(ckpt)} reads it "
                    f"through T5, which diffusers cuts at {t5_limit} tokens",
                    [ckpt],
                    field=field_name,
                )
            continue
        if tokens > CHUNK_TOKENS:
            counted = context.count_chunks(text) if context.count_chunks else []
            chunks = max(len(counted), math.ceil(tokens / CHUNK_TOKENS))
            yield Hit(
                f"{words} is {tokens} CLIP tokens: encoded as {chunks} chunks of "
                f"{CHUNK_TOKENS} (tools that truncate at 77 drop the rest)",
                field=field_name,
            )


@rule(
    "PP502",
    "missing-trigger-words",
    Family.PROMPT,
    Severity.WARNING,
    "None of the trigger words a LoRA declares is in the prompt",
)
def missing_trigger_words(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    Many LoRAs only switch on when their trigger word is in the prompt. This rule trusts only
    trigger words the file declares (ModelSpec `modelspec.trigger_phrase`, or metadata
    evidence recorded at scan time): none of them appears in the prompt, so the LoRA may do
    little. Words pantry guessed from training-tag frequency are only a suggestion (PP505).
    Matching ignores case, emphasis brackets and `_` versus space.

    Example:

        prompt = "a castle on a hill"
        [[loras]]
        ref = "lineart_v2"    # declares modelspec.trigger_phrase = "lineart"
    """
    prompt = _prompt_text(resolved)
    for res, triggers, declared in _lora_triggers(resolved, context):
        if declared and not _any_in(triggers, prompt):
            yield Hit(
                f"{label(res)}: none of the trigger words it declares ({_show(triggers)}) is "
                "in the prompt",
                [res],
            )


@rule(
    "PP505",
    "guessed-trigger-words-absent",
    Family.PROMPT,
    Severity.INFO,
    "A word a LoRA's training captions lean on is not in the prompt (a guess)",
)
def guessed_trigger_words_absent(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    The LoRA declares no trigger word, but its training captions (kohya `ss_tag_frequency`)
    or its training folder name repeat a few words that pantry takes as likely activation
    words. That is a guess: detail and style sliders are trained with ordinary words and need
    none of them. A suggestion to try when the LoRA seems to do little, never a fault.

    Example:

        prompt = "a castle on a hill"
        [[loras]]
        ref = "animeLineart_sd15"    # captions: lineart (120), monochrome (90), ...
    """
    prompt = _prompt_text(resolved)
    for res, triggers, declared in _lora_triggers(resolved, context):
        if not declared and not _any_in(triggers, prompt):
            where = (
                "training captions"
                if res.asset.identity.metadata.get("tag_frequency")
                else "training folder name"
            )
            yield Hit(
                f"{label(res)}: its {where} lean on {_show(triggers)} (a guess, not declared "
                "trigger words); if the LoRA seems to do little, try one in the prompt",
                [res],
            )


def _lora_triggers(
    resolved: ResolvedRecipe, context: LintContext
) -> Iterator[tuple[Resolution, list[str], bool]]:
    """Each LoRA in use once, its trigger words, and whether the file declares them
    (identify records where trigger words came from as evidence)."""
    seen: set[Any] = set()
    for res in found(resolved, "lora"):
        weight = res.lora.weight if res.lora is not None else 1.0
        if res.asset.id in seen or weight <= 0:
            continue  # a negative-weight slider needs no trigger
        seen.add(res.asset.id)
        identity = res.asset.identity
        if any(
            e.about == TRIGGER_EVIDENCE and e.source in DECLARED_TRIGGER_SOURCES
            for e in identity.evidence
        ):
            yield res, _words(identity.metadata.get("trigger_words")), True
            continue
        guessed = _words(identity.metadata.get("trigger_words"))
        if guessed:
            yield res, guessed, False


def _words(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _prompt_text(resolved: ResolvedRecipe) -> str:
    return _normalise(strip_extra_networks(resolved.recipe.prompt))


def _normalise(text: str) -> str:
    # Booru tags are written both ways ("long_hair", "long hair").
    return " ".join(text.lower().replace("_", " ").split())


def _any_in(triggers: list[str], prompt: str) -> bool:
    for trigger in triggers:
        words = _normalise(trigger)
        if words and re.search(rf"(?<!\w){re.escape(words)}(?!\w)", prompt):
            return True
    return False


def _show(triggers: list[str]) -> str:
    return ", ".join(repr(t) for t in triggers[:5])


@rule(
    "PP503",
    "prompt-names-unknown-asset",
    Family.PROMPT,
    Severity.ERROR,
    "A LoRA tag or embedding in the prompt names nothing in the catalog",
)
def prompt_names_unknown_asset(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    A `<lora:NAME:W>` tag or an embedding named in the prompt matches no catalogued file.
    A1111 reports "couldn't find Lora" and renders without it; the words an embedding stood
    for are read as plain text.

    Example:

        prompt = "portrait <lora:add_detial:0.5>"    # typo for add_detail
    """
    for res in resolved.all():
        from_prompt = res.slot == "embedding" or (res.lora is not None and res.lora.from_prompt)
        if from_prompt and res.problem == "not_found":
            yield Hit(f"the prompt names {label(res)}, which is not in the catalog", [res])


@rule(
    "PP504",
    "pony-tags-without-pony",
    Family.PROMPT,
    Severity.WARNING,
    "Pony score tags are used with a checkpoint that is not a Pony model",
)
def pony_tags_without_pony(resolved: ResolvedRecipe, context: LintContext) -> Iterator[Hit]:
    """
    `score_9, score_8_up, ...` are quality tags that Pony Diffusion was trained on. Other
    checkpoints (SDXL base, SD1 models) read them as meaningless words that take up tokens
    and nudge the image at random.

    Example:

        checkpoint = "sdxl_base_1.0"
        prompt = "score_9, score_8_up, a fox in the snow"
    """
    ckpt = usable_checkpoint(resolved)
    if ckpt is None or (ckpt.asset.identity.lineage or "").lower() == "pony":
        return
    prompt = resolved.recipe.prompt.lower()
    used = [tag for tag in PONY_TAGS if tag in prompt]
    if used:
        yield Hit(
            f"prompt uses Pony score tags ({', '.join(used)}), but {label(ckpt)} is not "
            "known to be a Pony model",
            [ckpt],
            field="prompt",
        )
