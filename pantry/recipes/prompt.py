"""A1111 prompt syntax: extra-network tags, attention weights, BREAK, prompt editing.

Only what pantry needs to read from a prompt: which LoRAs and embeddings it names, and the
plain text the text encoder really sees (for token counts). Behaviour follows A1111's
``extra_networks.parse_prompt`` and ``prompt_parser``.
"""

from __future__ import annotations

import re

from pantry.recipes.model import LoraSpec

# A1111's extra-network tag: <type:arg:arg...>; the body is split on ":".
EXTRA_NETWORK_RE = re.compile(r"<(\w+):([^>]+)>")
LORA_TAG_TYPES = ("lora", "lyco")
# Positional arguments of <lora:...> after the name, in A1111's order.
LORA_POSITIONAL = ("te", "unet", "dyn")

# ComfyUI's embedding syntax: "embedding:NAME" (optionally with a file extension).
COMFY_EMBEDDING_RE = re.compile(r"\bembedding:([^\s,()\[\]<>:]+)", re.IGNORECASE)
MODEL_EXTENSIONS = (".safetensors", ".pt", ".ckpt", ".bin", ".pth", ".sft")

# Attention syntax as A1111's re_attention splits it: escapes, brackets, ":1.2)", text, ":".
ATTENTION_RE = re.compile(r"\\[()\[\]\\]|\\|[(\[]|:\s*([+-]?[.\d]+)\s*\)|[)\]]|[^\\()\[\]:]+|:")
ROUND_MULTIPLIER = 1.1  # "(word)"; "[word]" divides by it
BREAK_RE = re.compile(r"\s*\bBREAK\b\s*")
BREAK = None  # marks a BREAK between segments in parse_attention's result
# Innermost prompt-editing group: [from:to:when], [to:when], [a|b|c]; no nested brackets.
EDIT_RE = re.compile(r"\[([^\[\]()]*?)\]")
EDIT_NUMBER_RE = re.compile(r"^\s*[+-]?[.\d]+\s*$")
MAX_VARIANTS = 32


def prompt_loras(prompt: str) -> list[LoraSpec]:
    """The ``<lora:NAME:TE[:UNET[:DYN]]>`` and ``<lyco:...>`` tags of a prompt, in order.

    Named arguments (``te=0.5``, ``unet=0.8``) work too. UNet weight defaults to the TE weight,
    the TE weight to 1.0, as in A1111. A weight that is not a number is kept as 1.0.
    """
    specs = []
    for kind, body in EXTRA_NETWORK_RE.findall(prompt):
        if kind.lower() not in LORA_TAG_TYPES:
            continue
        name, *args = body.split(":")
        named: dict[str, str] = {}
        positional = []
        for arg in args:
            if "=" in arg:
                key, _, value = arg.partition("=")
                named[key.strip()] = value
            else:
                positional.append(arg)
        named.update(
            {k: v for k, v in zip(LORA_POSITIONAL, positional, strict=False) if k not in named}
        )
        te = _number(named.get("te"), 1.0)
        unet = _number(named.get("unet"), None)
        specs.append(
            LoraSpec(
                ref=name.strip(),
                weight=te,
                from_prompt=True,
                unet_weight=unet if unet is not None and unet != te else None,
            )
        )
    return specs


def strip_extra_networks(prompt: str) -> str:
    """The prompt without ``<lora:...>``-style tags, as A1111 hands it to the text encoder."""
    return EXTRA_NETWORK_RE.sub("", prompt)


def comfy_embeddings(prompt: str) -> list[str]:
    """Names written as ComfyUI ``embedding:NAME`` (file extension dropped), in order."""
    names = []
    for raw in COMFY_EMBEDDING_RE.findall(prompt):
        name = drop_model_extension(raw)
        if name not in names:
            names.append(name)
    return names


def mentions_word(prompt: str, word: str) -> bool:
    """Whether ``word`` stands in the prompt as a token of its own (A1111 embedding match).

    A1111 matches embeddings on CLIP token ids, and CLIP lower-cases, so the match ignores
    case; it must not be glued to other letters or digits ("easynegative" is not in
    "easynegativev2").
    """
    pattern = r"(?<![\w])" + re.escape(word) + r"(?![\w])"
    return re.search(pattern, prompt, flags=re.IGNORECASE) is not None


def encoder_segments(prompt: str) -> list[list[str | None]]:
    """What the text encoder sees, per prompt-editing variant: weighted segments in order.

    ``[cat:dog:0.5]`` gives two variants ("cat" and "dog"). Each variant is the list of text
    segments A1111 tokenizes one by one (one per attention weight), with ``BREAK`` (None)
    where a BREAK keyword starts a new 75-token chunk. Extra-network tags are gone.
    """
    plain = strip_extra_networks(prompt)
    return [
        [text for text, _weight in parse_attention(variant)] for variant in _edit_variants(plain)
    ]


def parse_attention(text: str) -> list[tuple[str | None, float]]:
    """A1111's emphasis syntax -> [(text, weight)], neighbours of equal weight merged.

    ``(word)`` x1.1, ``[word]`` /1.1, ``(word:1.3)`` sets 1.3, ``\\(`` is a literal bracket,
    unmatched closing brackets stay literal; BREAK yields ``(None, -1)``.
    """
    parts: list[list] = []
    open_round: list[int] = []
    open_square: list[int] = []

    def scale(start: int, factor: float) -> None:
        for part in parts[start:]:
            part[1] *= factor

    for match in ATTENTION_RE.finditer(text):
        token, weight = match.group(0), match.group(1)
        if token.startswith("\\"):
            parts.append([token[1:], 1.0])
        elif token == "(":
            open_round.append(len(parts))
        elif token == "[":
            open_square.append(len(parts))
        elif weight is not None and open_round:
            scale(open_round.pop(), float(weight))
        elif token == ")" and open_round:
            scale(open_round.pop(), ROUND_MULTIPLIER)
        elif token == "]" and open_square:
            scale(open_square.pop(), 1 / ROUND_MULTIPLIER)
        else:
            for index, piece in enumerate(BREAK_RE.split(token)):
                if index:
                    parts.append([BREAK, -1.0])
                parts.append([piece, 1.0])
    for start in open_round:  # unclosed brackets still weigh what they enclose
        scale(start, ROUND_MULTIPLIER)
    for start in open_square:
        scale(start, 1 / ROUND_MULTIPLIER)

    merged: list[list] = []
    for part in parts:
        same = merged and merged[-1][1] == part[1] and BREAK not in (merged[-1][0], part[0])
        if same:
            merged[-1][0] += part[0]
        else:
            merged.append(part)
    return [(text, weight) for text, weight in merged] or [("", 1.0)]


def _edit_variants(text: str) -> list[str]:
    """Expand innermost prompt-editing groups into every prompt A1111 would encode."""
    variants = [text]
    for _ in range(8):  # nesting depth bound; each pass expands one level
        expanded = []
        changed = False
        for variant in variants:
            options = _expand_first_group(variant)
            changed |= options != [variant]
            expanded.extend(options)
        variants = expanded[:MAX_VARIANTS]
        if not changed:
            break
    return variants


def _expand_first_group(text: str) -> list[str]:
    for match in EDIT_RE.finditer(text):
        body = match.group(1)
        before, after = text[: match.start()], text[match.end() :]
        if "|" in body:
            return [before + option + after for option in body.split("|")]
        pieces = body.split(":")
        if len(pieces) == 3 and EDIT_NUMBER_RE.match(pieces[2]):
            return [before + pieces[0] + after, before + pieces[1] + after]
        if len(pieces) == 2 and EDIT_NUMBER_RE.match(pieces[1]):
            return [before + after, before + pieces[0] + after]  # [to:when] adds "to" later
    return [text]


def drop_model_extension(name: str) -> str:
    """ "vae-ft-mse.safetensors" -> "vae-ft-mse"; catalog names are file stems."""
    lowered = name.lower()
    for ext in MODEL_EXTENSIONS:
        if lowered.endswith(ext):
            return name[: -len(ext)]
    return name


def _number(value: str | None, default: float | None) -> float | None:
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        return default
