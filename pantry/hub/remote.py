"""What the Hub says about a repository and its files, through ``huggingface_hub``.

``huggingface_hub`` reads ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE`` once, when it is first
imported. pantry imports it lazily inside each function and reads both variables itself at
call time, passing ``endpoint=`` explicitly, so the values in effect are those of the moment a
command runs (and tests can point a process at a local server).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import PurePosixPath

from pantry.errors import HubError
from pantry.formats import MODEL_EXTENSIONS

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_REVISION = "main"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TRUE = {"1", "on", "yes", "true"}


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repository at a resolved commit."""

    repo: str
    filename: str  # path inside the repository
    size: int
    sha256: str | None  # the LFS SHA-256; None for files stored in git itself
    commit: str  # the resolved commit this description belongs to


@dataclass(frozen=True)
class Download:
    """Where and how to fetch one file: the URL the Hub resolved and the headers to send."""

    file: RemoteFile
    url: str
    headers: dict[str, str]


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def offline_mode() -> bool:
    flag = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return flag.strip().lower() in _TRUE


def is_model_file(filename: str) -> bool:
    return PurePosixPath(filename).suffix.lower() in MODEL_EXTENSIONS


class HubClient:
    """Metadata calls for one endpoint. Every error leaves as a one-line ``HubError``."""

    def __init__(self, endpoint: str | None = None, token: str | None = None):
        self.endpoint = (endpoint or hub_endpoint()).rstrip("/")
        self.token = token  # None: huggingface_hub finds HF_TOKEN or the stored login

    def model_files(self, repo: str, revision: str | None = None) -> tuple[str, list[RemoteFile]]:
        """The resolved commit of ``revision`` and the repository's model files at it."""
        from huggingface_hub import HfApi
        from huggingface_hub.hf_api import RepoFile

        revision = revision or DEFAULT_REVISION
        api = HfApi(endpoint=self.endpoint, token=self.token)
        with hub_errors(repo, revision=revision, endpoint=self.endpoint):
            commit = api.model_info(repo, revision=revision).sha
            if not commit:
                raise HubError(f"{repo}@{revision}: the Hub did not say which commit it is")
            entries = api.list_repo_tree(repo, revision=commit, recursive=True)
            files = [
                RemoteFile(
                    repo=repo,
                    filename=entry.path,
                    size=entry.size,
                    sha256=entry.lfs.sha256 if entry.lfs else None,
                    commit=commit,
                )
                for entry in entries
                if isinstance(entry, RepoFile) and is_model_file(entry.path)
            ]
        return commit, sorted(files, key=lambda f: f.filename)

    def locate(self, repo: str, filename: str, revision: str | None = None) -> Download:
        """One HEAD request: the commit ``revision`` resolves to, the file's size, LFS SHA-256
        (the ETag of an LFS file) and the URL to GET it from."""
        from huggingface_hub import get_hf_file_metadata, hf_hub_url
        from huggingface_hub.utils import build_hf_headers

        revision = revision or DEFAULT_REVISION
        url = hf_hub_url(repo, filename, revision=revision, endpoint=self.endpoint)
        with hub_errors(repo, filename=filename, revision=revision, endpoint=self.endpoint):
            # No client retries: they log several lines per try, and an unreachable Hub
            # should be one line at once. Drops during the transfer are retried by download.
            meta = get_hf_file_metadata(url, token=self.token, endpoint=self.endpoint)
            headers = build_hf_headers(token=self.token)
        if not meta.commit_hash or meta.size is None:
            raise HubError(f"{repo}/{filename}: the Hub sent no commit or size for this file")
        etag = (meta.etag or "").lower()
        file = RemoteFile(
            repo=repo,
            filename=filename,
            size=meta.size,
            sha256=etag if _SHA256.match(etag) else None,
            commit=meta.commit_hash,
        )
        if not _same_origin(meta.location, self.endpoint):
            # The Hub's CDN gets no token: the signed URL is the credential.
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        return Download(file=file, url=meta.location, headers=headers)


def match_files(files: list[RemoteFile], patterns: list[str]) -> list[RemoteFile]:
    """Files whose path, or base name, matches any fnmatch pattern (an exact name is a pattern)."""
    return [
        f
        for f in files
        if any(
            fnmatch(f.filename, p) or fnmatch(PurePosixPath(f.filename).name, p) for p in patterns
        )
    ]


@contextmanager
def hub_errors(
    repo: str,
    *,
    filename: str | None = None,
    revision: str | None = None,
    endpoint: str | None = None,
) -> Iterator[None]:
    """Turn ``huggingface_hub`` and network exceptions into one-line ``HubError``s."""
    from huggingface_hub import errors as hf

    endpoint = endpoint or hub_endpoint()
    what = f"{repo}/{filename}" if filename else repo
    at = f"@{revision}" if revision else ""
    try:
        yield
    except hf.GatedRepoError as e:  # a RepositoryNotFoundError too: must come first
        raise HubError(
            f"{repo} is gated: accept its terms on the Hub, then set HF_TOKEN to a token of that "
            "account"
        ) from e
    except hf.RepositoryNotFoundError as e:
        hint = "" if os.environ.get("HF_TOKEN") else " (if it is private, set HF_TOKEN)"
        raise HubError(f"repository {repo} not found on {endpoint}{hint}") from e
    except hf.RevisionNotFoundError as e:
        raise HubError(f"revision {revision!r} not found in {repo}") from e
    except hf.RemoteEntryNotFoundError as e:
        raise HubError(f"file {filename!r} not found in {repo}{at}") from e
    except hf.OfflineModeIsEnabled as e:
        raise HubError(
            f"offline mode (HF_HUB_OFFLINE is set): cannot reach the Hub for {what}"
        ) from e
    except hf.HfHubHTTPError as e:
        status = e.response.status_code if e.response is not None else "?"
        raise HubError(f"the Hub answered HTTP {status} for {what}{at}") from e
    except _network_errors() as e:
        raise HubError(f"cannot reach {endpoint} for {what}: {_short(e)}") from e


def _network_errors() -> tuple[type[BaseException], ...]:
    import httpx2  # huggingface_hub's own HTTP library

    return (httpx2.TransportError, ConnectionError, TimeoutError)


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _same_origin(url: str, endpoint: str) -> bool:
    from urllib.parse import urlsplit

    a, b = urlsplit(url), urlsplit(endpoint)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)
