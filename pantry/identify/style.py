"""Style hints (anime / photoreal) with their source, strongest source first.

Order: embedded metadata (tags, description) > training tags > lineage > file name. A user's
own tag overrides all of these later, in the catalog.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from pantry.identify.identity import StyleHint
from pantry.identify.taxonomy import Style, StyleSource
from pantry.identify.vocab import ANIME_WORDS, LINEAGE_STYLE, PHOTO_WORDS, STYLE_MAJORITY

_WORD = re.compile(r"[a-z0-9]+")
_WORD_LISTS = ((Style.ANIME, ANIME_WORDS), (Style.PHOTOREAL, PHOTO_WORDS))


def style_hint(
    metadata_text: str, tags: Counter, lineage: str | None, name: str
) -> StyleHint | None:
    hint = _from_text(metadata_text, StyleSource.METADATA)
    if hint is None and tags:
        hint = _from_tags(tags)
    if hint is None and lineage in LINEAGE_STYLE:
        hint = StyleHint(LINEAGE_STYLE[lineage], StyleSource.LINEAGE.value, f"{lineage} lineage")
    if hint is None:
        hint = _from_text(name.replace("_", " ").replace("-", " "), StyleSource.NAME)
    return hint


def words_in(text: str, words: Iterable[str]) -> list[str]:
    """Entries of ``words`` found in ``text``: phrases as substrings, words as whole tokens."""
    text = text.lower()
    tokens = set(_WORD.findall(text))
    return [w for w in words if (w in text if " " in w else w in tokens)]


def _from_text(text: str, source: StyleSource) -> StyleHint | None:
    if not text.strip():
        return None
    hits = {style: sorted(words_in(text, words)) for style, words in _WORD_LISTS}
    found = [style for style, words in hits.items() if words]
    if len(found) != 1:
        return None  # nothing, or both: no claim
    style = found[0]
    return StyleHint(style.value, source.value, ", ".join(hits[style]))


def _from_tags(tags: Counter) -> StyleHint | None:
    totals: Counter = Counter()
    seen: dict[Style, list[tuple[str, int]]] = {Style.ANIME: [], Style.PHOTOREAL: []}
    for tag, count in tags.items():
        lowered = tag.lower()
        for style, words in _WORD_LISTS:
            if lowered in words:  # booru-style tags are whole entries
                totals[style] += count
                seen[style].append((tag, count))
    total = sum(totals.values())
    if not total:
        return None
    style, count = totals.most_common(1)[0]
    if count < STYLE_MAJORITY * total:
        return None
    top = sorted(seen[style], key=lambda item: -item[1])[:3]
    detail = "training tags: " + ", ".join(f"{t} ({c})" for t, c in top)
    return StyleHint(style.value, StyleSource.TRAINING_TAGS.value, detail)
