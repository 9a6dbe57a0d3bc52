"""Every hash the ecosystem uses for a model file, computed in one read of the file.

- ``sha256``: the whole file (Civitai AutoV2 = first 10 hex; A1111 "Model hash").
- ``addnet``: SHA-256 of the bytes after the safetensors header, from offset ``8 + N`` to the
  end (kohya ``sshs_model_hash``; Civitai AutoV3 = first 12 hex). Safetensors files only.
- ``a1111_legacy``: SHA-256 of the 64 KiB at offset 1 MiB, first 8 hex (Civitai AutoV1).
- ``blake3``: the whole file (InvokeAI, Stability Matrix), only when asked.

The file is read once, in 8 MiB chunks. Each SHA-256 stream runs in its own long-lived worker
thread fed through a queue: hashlib releases the GIL on large updates, so on two cores the
full-file and data-region hashes together cost about one stream's time. Starting a thread per
chunk would serialise the work, so a :class:`Hasher` keeps its threads for many files.
"""

from __future__ import annotations

import hashlib
import os
import queue
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

# The keys of the returned dict; the same strings as pantry.catalog.asset's HASH_* names
# (hashing sits below the catalog layer, so it cannot import them).
HASH_SHA256 = "sha256"
HASH_ADDNET = "addnet"
HASH_LEGACY = "a1111_legacy"
HASH_BLAKE3 = "blake3"
CHUNK_SIZE = 8 * 1024 * 1024
LEGACY_OFFSET = 0x100000  # 1 MiB
LEGACY_LENGTH = 0x10000  # 64 KiB
LEGACY_HEX = 8
SAFETENSORS_SUFFIXES = frozenset({".safetensors", ".sft"})

Progress = Callable[[int], None]  # called with the number of bytes just read


def compute_hashes(
    path: str | Path, *, blake3: bool = False, progress: Progress | None = None
) -> dict[str, str]:
    """Hash one file; returns ``{hash key: lowercase hex}`` for the keys above."""
    with Hasher() as hasher:
        return hasher.hash_file(path, blake3=blake3, progress=progress)


def safetensors_data_offset(path: str | Path, file_size: int) -> int | None:
    """Where tensor data starts (``8 + N``), or None when the file is not plausibly safetensors."""
    if Path(path).suffix.lower() not in SAFETENSORS_SUFFIXES or file_size < 8:
        return None
    with open(path, "rb") as f:
        (header_length,) = struct.unpack("<Q", f.read(8))
    offset = 8 + header_length
    return offset if offset <= file_size else None


class Hasher:
    """Long-lived hashing workers; use as a context manager and call :meth:`hash_file` often."""

    def __init__(self, chunk_size: int = CHUNK_SIZE, buffers: int = 4):
        self.chunk_size = chunk_size
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(buffers):
            self._free.put(bytearray(chunk_size))
        # Two workers: each file's streams are spread over them (full SHA-256 on one,
        # data-region SHA-256 and BLAKE3 on the other).
        self._workers = [_Worker(self._release) for _ in range(2)]
        self._pending: dict[int, int] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Hasher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()

    def hash_file(
        self, path: str | Path, *, blake3: bool = False, progress: Progress | None = None
    ) -> dict[str, str]:
        path = Path(path)
        size = os.stat(path).st_size
        streams = [_Stream(HASH_SHA256, hashlib.sha256(), 0, size, self._workers[0])]
        data_offset = safetensors_data_offset(path, size)
        if data_offset is not None:
            streams.append(
                _Stream(HASH_ADDNET, hashlib.sha256(), data_offset, size, self._workers[1])
            )
        if blake3:
            import blake3 as blake3_module

            hasher = blake3_module.blake3(max_threads=blake3_module.blake3.AUTO)
            streams.append(_Stream(HASH_BLAKE3, hasher, 0, size, self._workers[1]))
        # The legacy window is 64 KiB: hashed inline, no worker needed. A file that ends
        # before 1 MiB has no window at all (A1111 would hash empty bytes; Civitai stores null).
        legacy = (
            _Stream(HASH_LEGACY, hashlib.sha256(), LEGACY_OFFSET, LEGACY_OFFSET + LEGACY_LENGTH)
            if size > LEGACY_OFFSET
            else None
        )
        self._read(path, streams, legacy, progress)
        for worker in self._workers:
            worker.wait_idle()
        result = {s.key: s.hasher.hexdigest() for s in streams}
        if legacy is not None:
            result[HASH_LEGACY] = legacy.hasher.hexdigest()[:LEGACY_HEX]
        errors = [w.take_error() for w in self._workers]
        for error in errors:
            if error is not None:
                raise error
        return result

    def _read(
        self,
        path: Path,
        streams: list[_Stream],
        legacy: _Stream | None,
        progress: Progress | None,
    ) -> None:
        offset = 0
        with open(path, "rb", buffering=0) as f:
            while True:
                buffer = self._free.get()
                n = f.readinto(buffer)
                if not n:
                    self._free.put(buffer)
                    break
                view = memoryview(buffer)[:n]
                if legacy is not None:
                    legacy.feed_inline(view, offset)
                parts = [(s, part) for s in streams if (part := s.slice(view, offset)) is not None]
                if parts:
                    with self._lock:
                        self._pending[id(buffer)] = len(parts)
                    for stream, part in parts:
                        stream.worker.submit(stream, part, buffer)
                else:
                    self._free.put(buffer)
                offset += n
                if progress is not None:
                    progress(n)

    def _release(self, buffer: bytearray) -> None:
        with self._lock:
            left = self._pending[id(buffer)] - 1
            if left:
                self._pending[id(buffer)] = left
                return
            del self._pending[id(buffer)]
        self._free.put(buffer)


@dataclass
class _Stream:
    key: str
    hasher: object
    start: int
    end: int
    worker: _Worker | None = None

    def slice(self, view: memoryview, offset: int) -> memoryview | None:
        lo = max(self.start, offset) - offset
        hi = min(self.end, offset + len(view)) - offset
        return view[lo:hi] if hi > lo else None

    def feed_inline(self, view: memoryview, offset: int) -> None:
        part = self.slice(view, offset)
        if part is not None:
            self.hasher.update(part)


class _Worker:
    """One thread that applies queued updates in order; lives as long as its Hasher."""

    def __init__(self, release: Callable[[bytearray], None]):
        self._queue: queue.Queue[tuple[_Stream, memoryview, bytearray] | None] = queue.Queue()
        self._release = release
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pantry-hash", daemon=True)
        self._thread.start()

    def submit(self, stream: _Stream, part: memoryview, buffer: bytearray) -> None:
        self._queue.put((stream, part, buffer))

    def wait_idle(self) -> None:
        self._queue.join()

    def take_error(self) -> BaseException | None:
        error, self._error = self._error, None
        return error

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self._queue.task_done()
                return
            stream, part, buffer = item
            try:
                stream.hasher.update(part)
            except BaseException as error:  # surfaced by hash_file in the calling thread
                self._error = error
            finally:
                part.release()
                self._release(buffer)
                self._queue.task_done()


def iter_hash_files(
    paths: Iterable[str | Path], *, blake3: bool = False, progress: Progress | None = None
):
    """Yield ``(path, hashes)`` for many files, reusing one set of worker threads."""
    with Hasher() as hasher:
        for path in paths:
            yield path, hasher.hash_file(path, blake3=blake3, progress=progress)
