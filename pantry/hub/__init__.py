"""Hugging Face downloads: pull model files into the pantry root, verified and catalogued.

Public API (``huggingface_hub`` is imported only when a function needs it):

- ``list_model_files(repo, revision=None, *, endpoint=None, token=None) -> (commit, [RemoteFile])``
- ``pull(catalog, repo, patterns, *, revision=None, root=None, endpoint=None, token=None,
  progress=None) -> [PullResult]``
- ``pull_ref(catalog, "hf://owner/repo/path/file[@rev]", ...) -> Asset`` (pulls when needed);
  ``pull_ref_result(...) -> PullResult`` says whether it downloaded
- ``update_pulled(catalog, repo=None, ...) -> [PullResult]`` (``pantry pull --update``)
- ``parse_hf_ref(ref) -> (repo, filename, revision | None)``, ``is_hf_ref(ref)``
- ``find_pulled(catalog, ref) -> Asset | None``

Errors are ``pantry.errors.HubError`` (one line); ``HashMismatchError`` (a ``HubError``) means
the downloaded bytes did not match the Hub's LFS SHA-256.
"""

from __future__ import annotations

from pantry.hub.download import PARTIAL_DIR, DownloadProgress, HashMismatchError
from pantry.hub.placement import KIND_FOLDERS, folder_for_kind
from pantry.hub.puller import (
    ALREADY_PULLED,
    DOWNLOADED,
    UP_TO_DATE,
    UPDATED,
    PullResult,
    default_root,
    list_model_files,
    pull,
    pull_ref,
    pull_ref_result,
    update_pulled,
)
from pantry.hub.refs import HfRef, find_pulled, is_hf_ref, parse_hf_ref, parse_hf_ref_obj
from pantry.hub.remote import RemoteFile

__all__ = [
    "ALREADY_PULLED",
    "DOWNLOADED",
    "KIND_FOLDERS",
    "PARTIAL_DIR",
    "UPDATED",
    "UP_TO_DATE",
    "DownloadProgress",
    "HashMismatchError",
    "HfRef",
    "PullResult",
    "RemoteFile",
    "default_root",
    "find_pulled",
    "folder_for_kind",
    "is_hf_ref",
    "list_model_files",
    "parse_hf_ref",
    "parse_hf_ref_obj",
    "pull",
    "pull_ref",
    "pull_ref_result",
    "update_pulled",
]
