"""Resumable, verified download of one file into pantry's own partial file.

``huggingface_hub`` resumes only within one call and checks no hash (its partial file is
process-unique and deleted on any exception). pantry keeps
``<root>/.partial/<sha256><suffix>.part`` across calls instead: named by the expected
SHA-256, so the next call for the same content finds it, hashes the bytes already there
and asks only for the rest with a ``Range`` request. The SHA-256 is computed while the
bytes arrive (one pass) and checked before anyone sees the file. The request goes through
the client's shared HTTP session (proxies, offline mode, user agent) with the headers the
client built (auth).
"""

from __future__ import annotations

import errno
import hashlib
import shutil
import time
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

from pantry.errors import HubError
from pantry.hub.remote import Download, hub_errors

PARTIAL_DIR = ".partial"
PART_SUFFIX = ".part"
CHUNK_SIZE = 1024 * 1024  # reading back an earlier call's partial file
READ_TIMEOUT_S = 30.0
# Waits before each retry after a network failure that brought no new bytes; a failure
# after progress starts the list again. Exhausting it ends the call (the partial stays).
RETRY_WAITS_S: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)


class HashMismatchError(HubError):
    """The downloaded bytes are not the file the Hub announced (the check found a problem)."""


class DownloadProgress(Protocol):
    def start(self, name: str, total: int, completed: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def stop(self) -> None: ...


class NoProgress:
    def start(self, name: str, total: int, completed: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def stop(self) -> None:
        pass


def partial_path(root: Path, download: Download) -> Path:
    """Where the bytes of ``download`` collect until they are verified. The ``.part`` suffix
    keeps scanners from taking an unfinished file for a model."""
    file = download.file
    suffix = PurePosixPath(file.filename).suffix
    return root / PARTIAL_DIR / f"{file.sha256}{suffix}{PART_SUFFIX}"


def fetch_verified(
    download: Download, partial: Path, progress: DownloadProgress | None = None
) -> Path:
    """Bring ``partial`` to the announced size and check its SHA-256; returns ``partial``.

    Raises ``HashMismatchError`` (file removed) when the bytes do not hash to the LFS
    SHA-256, and ``HubError`` for a lost network (the partial file stays for the next call)
    or a full disk.
    """
    file = download.file
    if not file.sha256:
        raise HubError(
            f"{file.repo}/{file.filename} is not stored with Git LFS: the Hub gives no SHA-256 "
            "to check it against"
        )
    partial.parent.mkdir(parents=True, exist_ok=True)
    state = _PartialFile(partial, file.size)
    _check_free_space(partial, file.size - state.have)
    progress = progress or NoProgress()
    progress.start(PurePosixPath(file.filename).name, file.size, state.have)
    try:
        _fetch_rest(download, state, progress)
    finally:
        progress.stop()
    if state.have != file.size:
        partial.unlink(missing_ok=True)
        raise HubError(
            f"{file.repo}/{file.filename}: the server sent {state.have} bytes, the Hub "
            f"announced {file.size}; the download was discarded"
        )
    actual = state.hasher.hexdigest()
    if actual != file.sha256:
        partial.unlink(missing_ok=True)
        raise HashMismatchError(
            f"{file.repo}/{file.filename}@{file.commit[:12]}: SHA-256 mismatch: the Hub "
            f"announced {file.sha256}, the download is {actual}; removed, nothing catalogued"
        )
    return partial


class _PartialFile:
    """The bytes on disk so far and their running SHA-256, kept in step chunk by chunk."""

    def __init__(self, path: Path, size: int):
        self.path = path
        self.size = size
        self.hasher = hashlib.sha256()
        self.have = 0
        if path.exists() and path.stat().st_size > size:
            path.unlink()
        if path.exists():
            # A hash state cannot be saved between calls: hash what an earlier call left.
            with path.open("rb") as f:
                while chunk := f.read(CHUNK_SIZE):
                    self.hasher.update(chunk)
                    self.have += len(chunk)

    def restart(self) -> None:
        self.path.write_bytes(b"")
        self.hasher = hashlib.sha256()
        self.have = 0

    def append(self, out: BinaryIO, chunk: bytes) -> bytes:
        chunk = chunk[: self.size - self.have]  # never keep more than announced
        out.write(chunk)
        self.hasher.update(chunk)
        self.have += len(chunk)
        return chunk


def _fetch_rest(download: Download, state: _PartialFile, progress: DownloadProgress) -> None:
    import httpx2  # huggingface_hub's HTTP library; its errors are the network's
    from huggingface_hub.errors import OfflineModeIsEnabled

    file = download.file
    failures = 0
    while state.have < file.size:
        before = state.have
        try:
            _stream(download, state, progress)
        except OfflineModeIsEnabled as e:  # a ConnectionError, but retrying cannot help
            raise HubError(
                f"offline mode (HF_HUB_OFFLINE is set): cannot get {file.filename}"
            ) from e
        except (httpx2.TransportError, ConnectionError, TimeoutError) as e:
            failures = 0 if state.have > before else failures + 1
            if failures > len(RETRY_WAITS_S):
                raise HubError(
                    f"network lost while downloading {file.repo}/{file.filename} after "
                    f"{failures} attempts; {state.have} of {file.size} bytes kept: run the "
                    "same command again to resume"
                ) from e
            if failures:
                time.sleep(RETRY_WAITS_S[failures - 1])
            continue
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise HubError(
                    f"disk full while writing {state.path} ({state.have} of {file.size} bytes "
                    "kept): free some space and run the same command again to resume"
                ) from e
            raise
        if state.have == before:
            break  # the body ended early without an error: do not spin


def _stream(download: Download, state: _PartialFile, progress: DownloadProgress) -> None:
    """One GET from byte ``state.have``, appending to the partial file as bytes arrive."""
    import httpx2
    from huggingface_hub.utils import get_session, hf_raise_for_status

    file = download.file
    headers = dict(download.headers)
    headers["Accept-Encoding"] = "identity"  # the bytes on disk must be the file's bytes
    if state.have:
        headers["Range"] = f"bytes={state.have}-"
    timeout = httpx2.Timeout(READ_TIMEOUT_S, connect=10.0)
    # Network errors leave this function untranslated: the caller retries them.
    with get_session().stream("GET", download.url, headers=headers, timeout=timeout) as r:
        with hub_errors(file.repo, filename=file.filename, revision=file.commit):
            hf_raise_for_status(r)
        if state.have and not _resumes_at(r, state.have):
            # The server ignored the Range: start over rather than append a second copy.
            state.restart()
            progress.start(PurePosixPath(file.filename).name, file.size, 0)
        with state.path.open("ab") as out:
            # Chunks as they arrive: a bigger buffer would be lost whole when the link drops.
            for chunk in r.iter_bytes():
                progress.advance(len(state.append(out, chunk)))
                if state.have == file.size:
                    break


def _resumes_at(response: Any, offset: int) -> bool:
    content_range = response.headers.get("Content-Range", "")
    return response.status_code == 206 and content_range.startswith(f"bytes {offset}-")


def _check_free_space(partial: Path, needed: int) -> None:
    free = shutil.disk_usage(partial.parent).free
    if free < needed:
        raise HubError(
            f"disk full: {partial.parent} has {free} bytes free, the download needs {needed} more"
        )
