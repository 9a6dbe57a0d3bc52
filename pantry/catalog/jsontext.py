"""JSON for the catalog's JSON columns, written without an intermediate copy.

``Identity.to_json`` (``dataclasses.asdict``) deep-copies every list, which for a LoRA with
hundreds of module names costs more than the rest of storing it. ``dumps`` serialises
dataclasses directly, and passes ``RawJSON`` (text already serialised, e.g. by a scan worker)
through untouched. The engine uses it as its ``json_serializer``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any


class RawJSON(str):
    """Text that is already a JSON document."""


def dumps(value: Any) -> str:
    if isinstance(value, RawJSON):
        return value
    return json.dumps(value, default=_plain, ensure_ascii=False, separators=(",", ":"))


def identity_json(identity: Any) -> RawJSON:
    """The same document as ``identity.to_json()``, serialised."""
    return RawJSON(dumps(identity))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.__dict__
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")
