"""Map every REF a recipe names (checkpoint, VAE, LoRAs, embeddings) to a catalogued asset.

A REF is looked up by the catalog first (name, path, hash prefix, id, hf:// ref). When that
fails, the hashes an infotext carried (``Model hash``, ``VAE hash``, ``Lora hashes``,
``TI hashes`` in ``Recipe.extra``) and LoRA aliases (``ss_output_name``, title) are tried, the
way A1111 maps a pasted infotext back to local files. Nothing here raises for a missing
asset: each REF becomes a ``Resolution`` whose ``problem`` says what went wrong.
"""

from __future__ import annotations

from typing import Any, Protocol

from pantry.catalog.asset import HASH_ADDNET, HASH_BLAKE3, HASH_LEGACY, HASH_SHA256
from pantry.errors import AmbiguousRefError, HubError, PantryError, RefNotFoundError
from pantry.recipes.model import LoraSpec, Recipe, Resolution, ResolvedRecipe
from pantry.recipes.prompt import comfy_embeddings, mentions_word

NOT_FOUND, AMBIGUOUS, NOT_PULLED = "not_found", "ambiguous", "not_pulled"
HF_SCHEME = "hf://"

# Kinds tried first for each slot; a REF found only under another kind still resolves
# (lint reports the wrong kind, which is clearer than "not found").
SLOT_KINDS = {
    "checkpoint": ("checkpoint", "diffusion_model"),
    "vae": ("vae",),
    "lora": ("lora",),
    "embedding": ("embedding",),
}
# Infotext keys holding the hash of each single-asset slot.
SLOT_HASH_KEYS = {"checkpoint": "Model hash", "vae": "VAE hash"}
# LoRA metadata that A1111 shows as the LoRA's alias in <lora:ALIAS:W>.
LORA_ALIAS_KEYS = ("ss_output_name", "title", "modelspec.title", "output_name")


class CatalogLike(Protocol):
    """What resolution needs from ``pantry.Catalog``.

    ``names(kind) -> [(id, name)]`` and ``get(id)`` are used when present (a catalog of
    thousands of embeddings is then matched by name, not built asset by asset); without them
    the names come from ``find``.
    """

    def resolve(self, ref: str, kind: str | None = None) -> Any: ...

    def find_by_hash(self, prefix: str) -> list[Any]: ...

    def find(self, **filters: Any) -> list[Any]: ...


def resolve(recipe: Recipe, catalog: CatalogLike) -> ResolvedRecipe:
    """Look up every REF of ``recipe`` in ``catalog``."""
    lookup = _Lookup(catalog)
    checkpoint = lookup.single(
        "checkpoint",
        recipe.checkpoint,
        recipe.extra.get("Model hash"),
        recipe.lines.get("checkpoint"),
    )
    vae = None
    if recipe.vae:
        vae = lookup.single(
            "vae", recipe.vae, recipe.extra.get("VAE hash"), recipe.lines.get("vae")
        )
    lora_hashes = parse_name_hashes(recipe.extra.get("Lora hashes", ""))
    loras = [
        lookup.lora(spec, lora_hashes.get(_infotext_name(spec.ref)), _lora_line(recipe, spec, i))
        for i, spec in enumerate(recipe.all_loras())
    ]
    return ResolvedRecipe(
        recipe=recipe,
        checkpoint=checkpoint,
        vae=vae,
        loras=loras,
        embeddings=_embeddings(recipe, lookup),
    )


def parse_name_hashes(value: str) -> dict[str, str]:
    """``"name1: 0123abcd, name2: 4567ef01"`` (Lora hashes / TI hashes) -> {name: hash}."""
    pairs = {}
    for item in str(value).split(","):
        name, sep, digest = item.rpartition(":")
        if sep and name.strip() and digest.strip():
            pairs[name.strip()] = digest.strip().lower()
    return pairs


def hash_matches(asset: Any, digest: str, slot: str) -> bool:
    """Whether an infotext hash (any length, any case, optional 0x) names ``asset``."""
    digest = digest.lower().removeprefix("0x")
    if not digest:
        return False
    hashes = {k: str(v).lower() for k, v in (asset.hashes or {}).items()}
    if hashes.get(HASH_SHA256, "").startswith(digest):
        return True
    if len(digest) == 64 and hashes.get(HASH_BLAKE3) == digest:  # InvokeAI names models by it
        return True
    if slot in ("checkpoint", "vae") and len(digest) == 8:
        return hashes.get(HASH_LEGACY) == digest
    if slot == "lora":
        # A1111 prefers the sshs_model_hash a trainer wrote, unchecked; else the addnet hash.
        written = str(asset.identity.metadata.get("sshs_model_hash", "")).lower()
        return hashes.get(HASH_ADDNET, "").startswith(digest) or written.removeprefix(
            "0x"
        ).startswith(digest)
    return False


class _Lookup:
    def __init__(self, catalog: CatalogLike):
        self.catalog = catalog
        self._by_kind: dict[str, list[Any]] = {}
        self._names: dict[str, list[tuple[int, str]]] = {}

    def single(self, slot: str, ref: str, digest: str | None, line: int | None) -> Resolution:
        result = Resolution(slot=slot, ref=ref, line=line)
        if not ref.strip() and not digest:
            return self._problem(result, NOT_FOUND, f"the recipe names no {slot}")
        if ref.strip():
            self._by_ref(result, SLOT_KINDS[slot])
        if result.asset is None and digest:
            self._by_hash(result, str(digest))
        return result

    def lora(self, spec: LoraSpec, digest: str | None, line: int | None) -> Resolution:
        result = Resolution(slot="lora", ref=spec.ref, lora=spec, line=line)
        self._by_ref(result, SLOT_KINDS["lora"])
        if result.asset is None and result.problem != AMBIGUOUS:
            self._by_alias(result)
        if result.asset is None and digest:
            self._by_hash(result, digest)
        return result

    def assets_of_kind(self, kind: str) -> list[Any]:
        if kind not in self._by_kind:
            self._by_kind[kind] = list(self.catalog.find(kind=kind))
        return self._by_kind[kind]

    def names_of_kind(self, kind: str) -> list[tuple[int, str]]:
        """``(id, name)`` of every asset of ``kind``, in ``find``'s order."""
        if kind not in self._names:
            if hasattr(self.catalog, "names") and hasattr(self.catalog, "get"):
                self._names[kind] = list(self.catalog.names(kind))
            else:
                self._names[kind] = [(a.id, a.name) for a in self.assets_of_kind(kind)]
        return self._names[kind]

    def named_asset(self, kind: str, index: int) -> Any | None:
        """The asset behind ``names_of_kind(kind)[index]`` (None if it vanished meanwhile)."""
        if kind in self._by_kind:
            return self._by_kind[kind][index]
        try:
            return self.catalog.get(self._names[kind][index][0])
        except RefNotFoundError:
            return None

    def _by_ref(self, result: Resolution, kinds: tuple[str, ...]) -> None:
        if result.ref.startswith(HF_SCHEME):
            self._by_provenance(result)
            return
        for kind in (*kinds, None):
            try:
                result.asset = self.catalog.resolve(result.ref, kind=kind)
            except AmbiguousRefError as exc:
                result.candidates = list(exc.candidates)
                self._problem(result, AMBIGUOUS, f"{len(exc.candidates)} assets match")
                return
            except RefNotFoundError:
                continue
            result.problem, result.detail = None, ""
            return
        self._problem(result, NOT_FOUND, "no catalogued file has this name, path or hash")

    def _by_provenance(self, result: Resolution) -> None:
        """An hf:// ref names the asset pulled from that repository file (its provenance)."""
        from pantry.hub.refs import find_pulled  # pure helpers; nothing is downloaded here

        try:
            asset = find_pulled(self.catalog, result.ref)
        except HubError as exc:
            self._problem(result, NOT_FOUND, str(exc))
            return
        if asset is None:
            self._problem(result, NOT_PULLED, f"not downloaded yet: run `pantry pull {result.ref}`")
        else:
            self._found(result, asset, "pulled from Hugging Face")

    def _by_alias(self, result: Resolution) -> None:
        matches = [
            asset
            for asset in self.assets_of_kind("lora")
            if any(
                str(asset.identity.metadata.get(key, "")) == result.ref for key in LORA_ALIAS_KEYS
            )
        ]
        if len(matches) == 1:
            self._found(result, matches[0], f"matched by its alias {result.ref!r}")
        elif matches:
            result.candidates = matches
            self._problem(result, AMBIGUOUS, f"{len(matches)} LoRAs use the alias {result.ref!r}")

    def _by_hash(self, result: Resolution, digest: str) -> None:
        if result.problem == AMBIGUOUS:
            # Several files share the name: the infotext's hash says which one was used,
            # the way A1111 picks a same-named LoRA or checkpoint by its hash.
            matches = _distinct_files(
                [a for a in result.candidates if hash_matches(a, digest, result.slot)]
            )
            if len(matches) == 1:
                self._found(result, matches[0], f"the one of that name with hash {digest}")
            return
        try:
            found = self.catalog.find_by_hash(digest.lower().removeprefix("0x"))
        except PantryError:
            found = []
        matches = _distinct_files([a for a in found if hash_matches(a, digest, result.slot)])
        if len(matches) == 1:
            self._found(result, matches[0], f"matched by hash {digest}")
        elif matches:
            result.candidates = matches
            self._problem(
                result, AMBIGUOUS, f"hash {digest} matches {len(matches)} different files"
            )
        else:
            result.detail += f"; hash {digest} matches nothing either"

    @staticmethod
    def _found(result: Resolution, asset: Any, detail: str) -> None:
        result.asset, result.problem, result.detail, result.candidates = asset, None, detail, []

    @staticmethod
    def _problem(result: Resolution, problem: str, detail: str) -> Resolution:
        result.problem, result.detail = problem, detail
        return result


def _embeddings(recipe: Recipe, lookup: _Lookup) -> list[Resolution]:
    """TI hashes names, ComfyUI ``embedding:NAME`` words, and catalog embeddings the prompts use."""
    resolutions: dict[str, Resolution] = {}
    ti_hashes = parse_name_hashes(recipe.extra.get("TI hashes", ""))
    for name, digest in ti_hashes.items():
        result = lookup.single("embedding", name, digest, recipe.lines.get("prompt"))
        resolutions[name.lower()] = result
    for field_name in ("prompt", "negative_prompt"):
        text = getattr(recipe, field_name)
        line = recipe.lines.get(field_name)
        for name in comfy_embeddings(text):
            if name.lower() not in resolutions:
                resolutions[name.lower()] = lookup.single("embedding", name, None, line)
        folded = text.lower()
        for index, (_, name) in enumerate(lookup.names_of_kind("embedding")):
            if name.lower() in resolutions or not _mentions(text, folded, name):
                continue
            asset = lookup.named_asset("embedding", index)
            if asset is not None:
                resolutions[name.lower()] = Resolution(
                    slot="embedding", ref=name, asset=asset, line=line
                )
    return list(resolutions.values())


def _mentions(text: str, folded: str, name: str) -> bool:
    """``mentions_word(text, name)``, skipping the regex when ``name`` cannot be in ``text``.

    A substring test of the lower-cased strings is a safe pre-check only for ASCII: the
    regex's case-insensitive match also pairs a few non-ASCII letters with ASCII ones
    (the Kelvin sign with "k", the long s with "s") that ``str.lower`` keeps apart.
    """
    if text.isascii() and name.isascii() and name.lower() not in folded:
        return False
    return mentions_word(text, name)


def _distinct_files(assets: list[Any]) -> list[Any]:
    """Copies of one file (same SHA-256) count once: any of them is the asset."""
    seen: dict[str, Any] = {}
    for asset in assets:
        key = (asset.hashes or {}).get(HASH_SHA256) or f"id:{asset.id}"
        seen.setdefault(key, asset)
    return list(seen.values())


def _infotext_name(ref: str) -> str:
    # A1111 removes ":" and "," from names in "Lora hashes" / "TI hashes".
    return ref.replace(":", "").replace(",", "").strip()


def _lora_line(recipe: Recipe, spec: LoraSpec, index: int) -> int | None:
    if spec.from_prompt:
        return recipe.lines.get("prompt")
    return recipe.lines.get(f"loras[{index}]") or recipe.lines.get("loras")
