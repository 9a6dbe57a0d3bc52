"""Pull files from a Hugging Face repository into the pantry root and catalogue them.

A pulled file is downloaded into ``<root>/.partial/`` (resumable across calls), checked
against the Hub's LFS SHA-256, placed by ``os.replace`` under the folder that fits its
identified kind, and catalogued with its provenance::

    {"source": "huggingface", "repo": ..., "revision": asked, "commit": resolved,
     "filename": ..., "size": ..., "lfs_sha256": ..., "downloaded_at": ISO time,
     "endpoint": ...}
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from pantry.errors import HubError
from pantry.hub.download import PART_SUFFIX, DownloadProgress, fetch_verified, partial_path
from pantry.hub.placement import destination, identified_kind
from pantry.hub.refs import PROVENANCE_SOURCE, find_pulled, parse_hf_ref_obj, pulled_assets
from pantry.hub.remote import (
    DEFAULT_REVISION,
    Download,
    HubClient,
    RemoteFile,
    match_files,
    offline_mode,
)

# What happened to each file of a pull.
DOWNLOADED = "downloaded"
ALREADY_PULLED = "already_pulled"
UPDATED = "updated"
UP_TO_DATE = "up_to_date"


@dataclass
class PullResult:
    status: str  # DOWNLOADED | ALREADY_PULLED | UPDATED | UP_TO_DATE
    file: RemoteFile
    asset: Any  # pantry.catalog.asset.Asset

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "repo": self.file.repo,
            "filename": self.file.filename,
            "commit": self.file.commit,
            "size": self.file.size,
            "lfs_sha256": self.file.sha256,
            "path": str(self.asset.path),
            "kind": self.asset.kind,
        }


def list_model_files(
    repo: str,
    revision: str | None = None,
    *,
    endpoint: str | None = None,
    token: str | None = None,
) -> tuple[str, list[RemoteFile]]:
    """The commit ``revision`` resolves to and the repository's model files at it."""
    _refuse_offline(repo)
    return HubClient(endpoint, token).model_files(repo, revision)


def pull(
    catalog: Any,
    repo: str,
    patterns: list[str],
    *,
    revision: str | None = None,
    root: Path | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    progress: DownloadProgress | None = None,
) -> list[PullResult]:
    """Download the model files of ``repo`` matching any fnmatch pattern and catalogue them.

    Files already pulled with the same content are not downloaded again.
    """
    _refuse_offline(repo)
    client = HubClient(endpoint, token)
    _, files = client.model_files(repo, revision)
    chosen = match_files(files, patterns)
    if not chosen:
        asked = " ".join(patterns)
        raise HubError(
            f"no model file of {repo}@{revision or DEFAULT_REVISION} matches {asked!r}; "
            f"run `pantry pull {repo}` to list them"
        )
    target_root = root or default_root(catalog)
    return [
        _pull_one(
            catalog,
            client,
            file,
            asked_revision=revision or DEFAULT_REVISION,
            root=target_root,
            progress=progress,
        )
        for file in chosen
    ]


def pull_ref(
    catalog: Any,
    ref: str,
    *,
    root: Path | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    progress: DownloadProgress | None = None,
) -> Any:
    """The asset for an ``hf://owner/repo/path[@rev]`` ref, pulling it first when needed."""
    return pull_ref_result(
        catalog, ref, root=root, endpoint=endpoint, token=token, progress=progress
    ).asset


def pull_ref_result(
    catalog: Any,
    ref: str,
    *,
    root: Path | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    progress: DownloadProgress | None = None,
) -> PullResult:
    """Like ``pull_ref``, saying whether it downloaded (``DOWNLOADED``) or found the asset
    already pulled (``ALREADY_PULLED``, no request made)."""
    if asset := find_pulled(catalog, ref):
        prov = asset.provenance
        file = RemoteFile(
            repo=prov["repo"],
            filename=prov["filename"],
            size=prov.get("size") or asset.size,
            sha256=prov.get("lfs_sha256"),
            commit=prov.get("commit") or "",
        )
        return PullResult(ALREADY_PULLED, file, asset)
    wanted = parse_hf_ref_obj(ref)
    if offline_mode():
        raise HubError(f"{ref} is not pulled yet and offline mode (HF_HUB_OFFLINE) is set")
    client = HubClient(endpoint, token)
    revision = wanted.revision or DEFAULT_REVISION
    download = client.locate(wanted.repo, wanted.filename, revision)
    return _pull_located(
        catalog, client, download, asked_revision=revision, root=root, progress=progress
    )


def update_pulled(
    catalog: Any,
    repo: str | None = None,
    *,
    root: Path | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    progress: DownloadProgress | None = None,
) -> list[PullResult]:
    """Re-check every pulled asset (of ``repo`` when given) against its asked revision and
    download the newer commit of each file whose content changed, in place of the old one."""
    _refuse_offline(repo or "pulled assets")
    results = []
    for asset in _latest_per_file(pulled_assets(catalog, repo)):
        prov = asset.provenance
        # An explicit endpoint, else HF_ENDPOINT, else the one the file came from.
        client = HubClient(endpoint or os.environ.get("HF_ENDPOINT") or prov.get("endpoint"), token)
        download = client.locate(prov["repo"], prov["filename"], prov.get("revision"))
        if download.file.sha256 and download.file.sha256 == prov.get("lfs_sha256"):
            results.append(PullResult(UP_TO_DATE, download.file, asset))
            continue
        result = _pull_located(
            catalog,
            client,
            download,
            asked_revision=prov.get("revision") or DEFAULT_REVISION,
            root=root,
            progress=progress,
            replace=asset.path,
        )
        results.append(dataclasses.replace(result, status=UPDATED))
    return results


def default_root(catalog: Any) -> Path:
    """The catalog's first remembered root, else ``$PANTRY_HOME/models``."""
    roots = getattr(catalog, "roots", None)
    if callable(roots):
        roots = roots()
    if roots:
        return Path(next(iter(roots)))
    home = os.environ.get("PANTRY_HOME")
    return (Path(home) if home else platformdirs.user_data_path("pantry")) / "models"


def _pull_one(
    catalog: Any,
    client: HubClient,
    file: RemoteFile,
    *,
    asked_revision: str,
    root: Path,
    progress: DownloadProgress | None,
) -> PullResult:
    # Ask at the commit the listing resolved, so the tree and the headers describe one file.
    download = client.locate(file.repo, file.filename, file.commit)
    announced = download.file.sha256
    if announced and file.sha256 and announced != file.sha256:
        raise HubError(
            f"{file.repo}/{file.filename}: the Hub announces two SHA-256s ({file.sha256} in "
            f"the tree, {announced} in the file headers); nothing downloaded"
        )
    download = dataclasses.replace(
        download, file=dataclasses.replace(download.file, sha256=announced or file.sha256)
    )
    return _pull_located(
        catalog, client, download, asked_revision=asked_revision, root=root, progress=progress
    )


def _pull_located(
    catalog: Any,
    client: HubClient,
    download: Download,
    *,
    asked_revision: str,
    root: Path | None,
    progress: DownloadProgress | None,
    replace: Path | None = None,
) -> PullResult:
    file = download.file
    if replace is None and (same := _asset_with_content(catalog, file.sha256)):
        return PullResult(ALREADY_PULLED, file, same)
    root = root or default_root(catalog)
    if replace and not replace.is_relative_to(root):
        root = replace.parent  # keep the partial file on the replaced file's filesystem
    try:
        partial = fetch_verified(download, partial_path(root, download), progress)
        verified = partial.with_name(partial.name.removesuffix(PART_SUFFIX))
        os.replace(partial, verified)  # the readers pick a format by the file's suffix
        kind = identified_kind(verified)
        target = replace or destination(root, kind, file.filename, file.sha256)
        _move_into_place(verified, target)
    except OSError as e:  # permissions, a read-only root, a full disk while moving
        raise HubError(f"{e.filename or root}: {e.strerror or e}") from e
    with contextlib.suppress(OSError):  # leave no empty .partial folder behind
        verified.parent.rmdir()
    provenance = {
        "source": PROVENANCE_SOURCE,
        "repo": file.repo,
        "revision": asked_revision,
        "commit": file.commit,
        "filename": file.filename,
        "size": file.size,
        "lfs_sha256": file.sha256,
        "downloaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "endpoint": client.endpoint,
    }
    asset = catalog.add_file(target, provenance=provenance)
    # Every hash users meet (AutoV2, addnet, legacy) in one more read; it also lets identify
    # recognise known files (the fp16-fix VAE, published base checkpoints) by their SHA-256.
    hashed = catalog.hash([asset.id]).hashed
    return PullResult(DOWNLOADED, file, hashed[0] if hashed else asset)


def _move_into_place(partial: Path, target: Path) -> None:
    """Atomic: a reader sees the old file or the whole new one, never a part."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(partial, target)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        # The folder is another filesystem (a mount inside the root): copy next to the
        # target first, so the final step is still one rename.
        staging = target.with_name(f".{target.name}.pulling")
        shutil.copyfile(partial, staging)
        os.replace(staging, target)
        partial.unlink()


def _asset_with_content(catalog: Any, sha256: str | None) -> Any | None:
    """A pulled asset, still on disk, whose Hub SHA-256 is ``sha256``."""
    if not sha256:
        return None
    for asset in pulled_assets(catalog):
        if asset.provenance.get("lfs_sha256") == sha256 and asset.path.exists():
            return asset
    return None


def _latest_per_file(assets: list[Any]) -> list[Any]:
    """One asset per (repo, filename, revision): the most recently downloaded."""
    latest: dict[tuple[str, str, str], Any] = {}
    for asset in sorted(assets, key=lambda a: a.provenance.get("downloaded_at") or ""):
        p = asset.provenance
        latest[(p["repo"], p["filename"], p.get("revision") or DEFAULT_REVISION)] = asset
    return list(latest.values())


def _refuse_offline(what: str) -> None:
    if offline_mode():
        raise HubError(f"offline mode (HF_HUB_OFFLINE is set): cannot reach the Hub for {what}")
