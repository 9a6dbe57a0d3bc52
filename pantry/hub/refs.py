"""``hf://`` references: how a recipe names one file of a Hugging Face repository.

Syntax::

    hf://OWNER/REPO/PATH/TO/FILE[@REVISION]

``OWNER/REPO`` is the repository id, everything after it up to an optional ``@REVISION`` is
the file's path inside the repository, and ``REVISION`` is a branch, tag or commit sha
(default: the repository's default branch, ``main``). Examples::

    hf://stabilityai/sdxl-vae/sdxl_vae.safetensors
    hf://madebyollin/sdxl-vae-fp16-fix/sdxl.vae.safetensors@207b116
    hf://owner/repo/unet/diffusion_pytorch_model.safetensors@v1.0

A path containing ``@`` itself cannot be written with a revision-less ref; write the revision
explicitly (``...@main``): the last ``@`` always starts the revision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pantry.errors import HubError

HF_SCHEME = "hf://"
PROVENANCE_SOURCE = "huggingface"


@dataclass(frozen=True)
class HfRef:
    repo: str  # "owner/name"
    filename: str  # path inside the repository
    revision: str | None = None  # None: the default branch

    def __str__(self) -> str:
        suffix = f"@{self.revision}" if self.revision else ""
        return f"{HF_SCHEME}{self.repo}/{self.filename}{suffix}"


def is_hf_ref(ref: str) -> bool:
    return ref.startswith(HF_SCHEME)


def parse_hf_ref(ref: str) -> tuple[str, str, str | None]:
    """``hf://owner/repo/path/file[@rev]`` -> ``(repo, filename, revision or None)``.

    Raises ``HubError`` (one line) when the ref is not of that shape.
    """
    parsed = parse_hf_ref_obj(ref)
    return parsed.repo, parsed.filename, parsed.revision


def parse_hf_ref_obj(ref: str) -> HfRef:
    """Like ``parse_hf_ref`` but returns an ``HfRef``."""
    if not is_hf_ref(ref):
        raise HubError(f"{ref!r} is not an hf:// ref (expected hf://owner/repo/path/to/file[@rev])")
    body = ref[len(HF_SCHEME) :]
    revision = None
    if "@" in body:
        body, revision = body.rsplit("@", 1)
        if not revision:
            raise HubError(f"{ref!r}: empty revision after '@'")
    parts = body.split("/")
    if len(parts) < 3 or not all(parts):
        raise HubError(f"{ref!r}: expected hf://owner/repo/path/to/file[@rev]")
    return HfRef(repo="/".join(parts[:2]), filename="/".join(parts[2:]), revision=revision)


def find_pulled(catalog: Any, ref: str) -> Any | None:
    """The catalogued asset that was pulled for ``ref``, or None when it is not pulled yet.

    A ref without a revision matches a file pulled from the default branch; a ref with one
    matches an asset pulled at that revision name or whose resolved commit starts with it.
    When several match, the most recently downloaded wins. Assets whose file is gone from
    disk are skipped.
    """
    wanted = parse_hf_ref_obj(ref)
    matches = [a for a in pulled_assets(catalog) if _matches(a.provenance, wanted)]
    present = [a for a in matches if a.path.exists()]
    if not present:
        return None
    return max(present, key=lambda a: a.provenance.get("downloaded_at") or "")


def pulled_assets(catalog: Any, repo: str | None = None) -> list[Any]:
    """Every catalogued asset with Hugging Face provenance (of ``repo`` when given)."""
    assets: Iterable[Any] = catalog.find()
    return [
        a
        for a in assets
        if a.provenance
        and a.provenance.get("source") == PROVENANCE_SOURCE
        and (repo is None or a.provenance.get("repo") == repo)
    ]


def _matches(provenance: dict[str, Any], wanted: HfRef) -> bool:
    if provenance.get("repo") != wanted.repo or provenance.get("filename") != wanted.filename:
        return False
    asked = provenance.get("revision") or "main"
    if wanted.revision is None:
        return asked == "main"
    commit = provenance.get("commit") or ""
    return asked == wanted.revision or (
        len(wanted.revision) >= 7 and commit.startswith(wanted.revision)
    )
