"""What every matcher reads: the header's keys indexed once, plus hashes and the file name.

Lookups are set membership and binary search over the sorted key list, so a matcher costs a
handful of probes whatever the file's size (no per-key regex scans).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from pantry.formats.header import Header, TensorInfo
from pantry.identify.lora_scan import LoraScan, scan_lora


class KeyIndex:
    """Tensor names of one header: exact lookups, prefix presence and prefix counts."""

    def __init__(self, tensors: dict[str, TensorInfo]):
        self.tensors = tensors
        self.sorted = sorted(tensors)

    def __len__(self) -> int:
        return len(self.tensors)

    def get(self, key: str) -> TensorInfo | None:
        return self.tensors.get(key)

    def has(self, key: str) -> bool:
        return key in self.tensors

    def has_prefix(self, prefix: str) -> bool:
        i = bisect_left(self.sorted, prefix)
        return i < len(self.sorted) and self.sorted[i].startswith(prefix)

    def first_with_prefix(self, prefix: str) -> str | None:
        i = bisect_left(self.sorted, prefix)
        if i < len(self.sorted) and self.sorted[i].startswith(prefix):
            return self.sorted[i]
        return None

    def count_prefix(self, prefix: str) -> int:
        if not prefix:
            return len(self.sorted)
        lo = bisect_left(self.sorted, prefix)
        # every string starting with prefix sorts below prefix with its last char bumped
        hi = bisect_left(self.sorted, prefix[:-1] + chr(ord(prefix[-1]) + 1), lo)
        return hi - lo

    def find(self, key: str, roots: tuple[str, ...]) -> tuple[str, TensorInfo] | None:
        """The first ``root + key`` present, with its tensor."""
        for root in roots:
            info = self.tensors.get(root + key)
            if info is not None:
                return root, info
        return None

    def first(self, keys: tuple[str, ...], root: str = "") -> tuple[str, TensorInfo] | None:
        """The first of ``keys`` present under ``root``."""
        for key in keys:
            info = self.tensors.get(root + key)
            if info is not None:
                return key, info
        return None

    def top_prefixes(self, n: int = 4) -> list[str]:
        """Most common first name segments, for 'nothing matched' reasons."""
        counts = Counter(k.split(".", 1)[0] for k in self.sorted)
        return [f"{name} ({count})" for name, count in counts.most_common(n)]


_NAME_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"([a-z])([A-Z])")


@dataclass
class Context:
    """One identification's inputs: the header, its key index, hashes and name words."""

    header: Header
    hashes: dict[str, str] = field(default_factory=dict)

    @cached_property
    def keys(self) -> KeyIndex:
        return KeyIndex(self.header.tensors)

    @property
    def metadata(self) -> dict[str, str]:
        return self.header.metadata

    @cached_property
    def name(self) -> str:
        """The file (or folder) name without its suffix, lower case."""
        path = self.header.path
        return (path.stem if path.suffix else path.name).lower()

    @cached_property
    def name_text(self) -> str:
        """The name as lower-case words: "animeLineart_v2" -> "anime lineart v2"."""
        path = self.header.path
        stem = path.stem if path.suffix else path.name
        return " ".join(_NAME_WORD.findall(_CAMEL.sub(r"\1 \2", stem).lower()))

    @cached_property
    def name_words(self) -> set[str]:
        return set(self.name_text.split()) | set(_NAME_WORD.findall(self.name))

    @cached_property
    def lora(self) -> LoraScan:
        return scan_lora(self.header.tensors)
