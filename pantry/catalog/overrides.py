"""User overrides of identity fields, and turning a database row into an :class:`Asset`.

Overrides win over what identify found, survive rescans, and are shown as overrides: the
rebuilt Identity carries an Evidence entry with ``source="user"`` for each one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pantry.catalog.asset import HASH_ADDNET, HASH_BLAKE3, HASH_LEGACY, HASH_SHA256, Asset
from pantry.catalog.models import AssetRow
from pantry.errors import PantryError
from pantry.identify.identity import Identity, StyleHint
from pantry.identify.taxonomy import Base, Edition, Kind, Style, StyleSource, Variant

# Fields a user may set, and the values each accepts (None: free text, e.g. lineage names).
OVERRIDABLE: dict[str, frozenset[str] | None] = {
    "kind": frozenset(Kind),
    "base": frozenset(Base),
    "edition": frozenset(Edition),
    "variant": frozenset(Variant),
    "lineage": None,
    "style": frozenset(Style),
}


class OverrideError(PantryError):
    """An override names an unknown field or a value outside its vocabulary."""


def validate_overrides(changes: dict[str, str | None]) -> dict[str, str | None]:
    """Check ``{field: value}`` (None or "" clears); returns them with "" turned into None."""
    cleaned: dict[str, str | None] = {}
    for key, value in changes.items():
        if key not in OVERRIDABLE:
            raise OverrideError(
                f"cannot set {key!r}: settable fields are {', '.join(sorted(OVERRIDABLE))}"
            )
        value = (value or "").strip() or None
        allowed = OVERRIDABLE[key]
        if value is not None and allowed is not None and value not in allowed:
            raise OverrideError(
                f"{key}={value!r} is not a known value; use one of {', '.join(sorted(allowed))}"
            )
        cleaned[key] = value
    return cleaned


def apply_overrides(identity: Identity, overrides: dict[str, str]) -> Identity:
    """A copy of ``identity`` with the overridden fields replaced and marked as the user's."""
    result = Identity.from_json(identity.to_json())
    for key, value in sorted(overrides.items()):
        if key == "style":
            result.style = StyleHint(
                value=value, source=StyleSource.USER.value, detail="set by user"
            )
        else:
            setattr(result, key, value)
        if key == "variant" and value not in result.variants:
            result.variants = [value, *result.variants]
        result.add(key, f"set by user: {key}={value}", source="user")
    return result


def effective_columns(identity: Identity) -> dict[str, Any]:
    """Queryable columns of an (override-applied) identity."""
    metadata = identity.metadata or {}
    title = metadata.get("title")
    return {
        "kind": identity.kind,
        "base": identity.base,
        "edition": identity.edition,
        "variant": identity.variant,
        "lineage": identity.lineage,
        "precision": identity.precision,
        "style": identity.style.value if identity.style else None,
        "title": str(title) if title else None,
    }


def search_text(name: str, identity: Identity) -> str:
    """Lower-case text that ``find(text=...)`` matches: name, title, trigger words, lineage."""
    metadata = identity.metadata or {}
    parts: list[str] = [name]
    # Keys as pantry.identify names them (identify/vocab.py METADATA_SOURCES).
    for key in ("title", "trigger_words", "tags", "author", "training_base"):
        value = metadata.get(key)
        if isinstance(value, list | tuple):
            parts.extend(str(v) for v in value)
        elif value:
            parts.append(str(value))
    if identity.lineage:
        parts.append(identity.lineage)
    return "\n".join(parts).lower()


def row_to_asset(row: AssetRow) -> Asset:
    stored = row.identity or {}
    if isinstance(stored, str):  # RawJSON just assigned by a scan, not yet read back
        stored = json.loads(stored)
    detected = Identity.from_json(stored)
    overrides = dict(row.overrides or {})
    hashes: dict[str, str] = {}
    if row.hashes is not None:
        for key, value in (
            (HASH_SHA256, row.hashes.sha256),
            (HASH_ADDNET, row.hashes.addnet),
            (HASH_LEGACY, row.hashes.a1111_legacy),
            (HASH_BLAKE3, row.hashes.blake3),
        ):
            if value:
                hashes[key] = value
    return Asset(
        id=row.id,
        path=Path(row.path),
        name=row.name,
        size=row.size,
        format=row.format,
        status=row.status,
        identity=apply_overrides(detected, overrides) if overrides else detected,
        hashes=hashes,
        tags=sorted(t.tag for t in row.tags),
        overrides=overrides,
        error=row.error,
        provenance=row.provenance,
    )
