"""Incremental scan: bring the catalog in step with the folders on disk.

One scan: walk the roots; a file whose (size, mtime_ns, inode) matches its row is skipped
without being opened; new and changed files are read in parallel (threads for a few files or
slow disks, forked worker processes for large scans: reading a cached header is CPU work);
a new path that is really a moved file takes over the vanished row (matched by (device, inode)
first, then by size and fingerprint), so identity, tags, hashes and overrides follow the file;
rows whose files vanished are marked missing, never deleted. Writes go in batches, one
transaction each, so a killed scan leaves whole batches and the next scan completes the rest.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from pantry import formats
from pantry.catalog.models import AssetRow, HashRow
from pantry.catalog.overrides import apply_overrides, effective_columns, search_text
from pantry.catalog.walk import Found, ReadResult, asset_name, read_entry, walk
from pantry.identify.identity import Identity

READ_THREADS = 4
BATCH_SIZE = 200
# Reading a header and identifying it is mostly Python work under the GIL once the file is
# in the page cache, so threads only help on slow disks. Past this many files a scan reads
# in worker processes, one per core (measured: benchmarks/bench_catalog.py).
PROCESS_MIN_FILES = 256
PROCESS_CHUNK = 16

ScanProgress = Callable[[str, int, int | None], None]  # (stage, done, total or None)


@dataclass
class ScanReport:
    """What a scan changed. Counts are exclusive: every file found lands in exactly one."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old path, new path)
    missing: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)  # folders or files that could not be listed
    roots: list[str] = field(default_factory=list)
    seconds: float = 0.0
    reader: str = "threads"  # how headers were read: "threads" or "processes"

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "moved": len(self.moved),
            "missing": len(self.missing),
            "unreadable": len(self.unreadable),
            "unchanged": self.unchanged,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "roots": self.roots,
            "counts": self.counts(),
            "new": self.new,
            "changed": self.changed,
            "moved": [{"from": a, "to": b} for a, b in self.moved],
            "missing": self.missing,
            "unreadable": [{"path": p, "reason": r} for p, r in self.unreadable],
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
        }


class _Known(Protocol):
    """A row as move detection sees it: a SQLAlchemy Row of _KNOWN_COLUMNS."""

    id: int
    path: str
    size: int
    mtime_ns: int
    device: int
    inode: int
    status: str
    fingerprint: str | None


def run_scan(
    open_session: Callable[[], Session],
    roots: list[str],
    progress: ScanProgress | None = None,
    *,
    threads: int = READ_THREADS,
    batch_size: int = BATCH_SIZE,
    parallel: str = "auto",
) -> ScanReport:
    """See the module docstring. ``parallel``: "threads", "processes" or "auto"."""
    started = time.perf_counter()
    now = time.time()
    report = ScanReport(roots=list(roots))
    found = walk(roots, report.errors.append)
    if progress:
        progress("walk", len(found), len(found))

    with open_session() as db:
        known = _load_state(db, roots)
        # The hot loop of a rescan of 50,000 files: one dict lookup and tuple compare each.
        differs: list[str] = []
        same = known.get
        for path, key in found.state.items():
            if same(path) == key:
                report.unchanged += 1
            else:
                differs.append(path)
        differs.sort()
        vanished = _load_by_path(db, sorted(p for p in known if p not in found.state))
        changed_ids = {r.path: r.id for r in _load_by_path(db, [p for p in differs if p in known])}
        missing = {r.path: r for r in _load_missing(db)}

    to_read: list[Found] = []
    moved_by_inode: list[tuple[_Known, Found]] = []
    new_paths: list[Found] = []
    update_ids: dict[str, int] = {}  # path -> row to refresh (changed, or missing and back)
    for path in differs:
        row_id = changed_ids.get(path) or (missing[path].id if path in missing else None)
        if row_id is None:
            new_paths.append(found.found(path))
        else:
            update_ids[path] = row_id
            to_read.append(found.found(path))
    missing_pool = [r for p, r in missing.items() if p not in found]

    pool = _MovePool(vanished + missing_pool)
    for f in new_paths:
        row = pool.take_by_inode(f)
        if row is None:
            to_read.append(f)
        else:
            moved_by_inode.append((row, f))  # renamed: same bytes, nothing to read

    writer = _BatchWriter(open_session, report, now, batch_size)
    for row, f in moved_by_inode:
        writer.move(row, f)
    total = len(to_read)
    with _reader_pool(parallel, len(to_read), threads) as (ex, chunksize):
        report.reader = "processes" if isinstance(ex, ProcessPoolExecutor) else "threads"
        results = ex.map(read_entry, to_read, chunksize=chunksize)
        for done, result in enumerate(results, start=1):
            path = result.found.path
            if (row_id := update_ids.get(path)) is not None:
                writer.update(row_id, result)
            elif (row := pool.take_by_fingerprint(result)) is not None:
                writer.move(row, result.found, result)
            else:
                writer.insert(result)
            if progress:
                progress("read", done, total)
    writer.flush()
    writer.mark_missing([r for r in pool.remaining() if r.status != "missing"])
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _reader_pool(parallel: str, count: int, threads: int):
    cores = os.cpu_count() or 1
    wanted = parallel == "processes" or (
        parallel == "auto" and count >= PROCESS_MIN_FILES and cores > 1
    )
    # Fork only a single-threaded process: a fork copies locks held by other threads. (The
    # spawn and forkserver methods would re-run the caller's __main__ module instead.)
    if wanted and threading.active_count() == 1:
        context = multiprocessing.get_context("fork")
        with (
            ProcessPoolExecutor(
                max_workers=cores,
                mp_context=context,
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            ) as ex,
            _cancel_queued_on_error(ex),
        ):
            yield ex, PROCESS_CHUNK
    else:
        pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="pantry-scan")
        with pool as ex, _cancel_queued_on_error(ex):
            yield ex, 1


@contextmanager
def _cancel_queued_on_error(ex: Executor):
    """On Ctrl-C or an error, drop the reads not yet started: leaving the ``with`` would
    otherwise wait for every queued file of a large scan."""
    try:
        yield
    except BaseException:
        ex.shutdown(wait=False, cancel_futures=True)
        raise


def _exit_with_parent(parent: int) -> None:
    """Worker start-up: leave when the scan's process dies (even by kill -9), instead of
    waiting forever on a queue whose other end it inherited."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="pantry-parent-watch", daemon=True).start()
    # Ctrl-C reaches the whole process group: the parent handles it and stops the pool; a
    # worker that also raised KeyboardInterrupt would print its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _MovePool:
    """Rows whose files vanished: candidates to be the old self of a new path."""

    def __init__(self, rows: Iterable[_Known]):
        # A path still there as a dangling symlink was not moved away: its target vanished.
        # Such a row shares the target's inode and fingerprint, and must not take over the
        # target's new path (the tags and overrides belong to the row of the real file).
        rows = list(rows)
        self._dangling = [r for r in rows if os.path.islink(r.path)]
        self._rows = {r.id: r for r in rows if not os.path.islink(r.path)}
        # An inode is reused by the next new file, so a rename must also keep size and mtime.
        self._by_inode = {
            (r.device, r.inode, r.size, r.mtime_ns): r.id for r in self._rows.values()
        }
        self._by_print = {(r.size, r.fingerprint): r.id for r in self._rows.values()}

    def take_by_inode(self, f: Found) -> _Known | None:
        st = f.stat
        return self._take(self._by_inode.get((st.device, st.inode, st.size, st.mtime_ns)))

    def take_by_fingerprint(self, result: ReadResult) -> _Known | None:
        if not result.fingerprint:
            return None
        return self._take(self._by_print.get((result.found.stat.size, result.fingerprint)))

    def remaining(self) -> list[_Known]:
        return list(self._rows.values()) + self._dangling

    def _take(self, row_id: int | None) -> _Known | None:
        return self._rows.pop(row_id, None) if row_id is not None else None


class _BatchWriter:
    """Queues row changes and writes them ``batch_size`` at a time, one transaction each."""

    def __init__(self, open_session, report: ScanReport, now: float, batch_size: int):
        self._open = open_session
        self._report = report
        self._now = now
        self._batch_size = batch_size
        self._ops: list[tuple[str, Any]] = []

    def insert(self, result: ReadResult) -> None:
        self._queue("insert", result)

    def update(self, row_id: int, result: ReadResult) -> None:
        self._queue("update", (row_id, result))

    def move(self, row: _Known, found: Found, result: ReadResult | None = None) -> None:
        self._queue("move", (row, found, result))

    def flush(self) -> None:
        if not self._ops:
            return
        ops, self._ops = self._ops, []
        with self._open() as db, db.begin():
            existing = self._existing(db, ops)
            # New rows go in as one executemany: the ORM's unit of work would cost more than
            # reading the headers did.
            new_rows = []
            for op, payload in ops:
                if op == "insert" and payload.found.path not in existing:
                    new_rows.append(row_values(payload, self._now, {}) | {"first_seen": self._now})
                    self._count(payload, self._report.new)
                else:
                    getattr(self, f"_apply_{op}")(db, existing, payload)
            if new_rows:
                db.execute(insert(AssetRow), new_rows)

    def mark_missing(self, rows: list[_Known]) -> None:
        # Re-check on disk inside the write: another scan may have seen the file come back.
        # (exists, not lexists: a symlink whose target vanished is missing too.)
        with self._open() as db, db.begin():
            for row in rows:
                if os.path.exists(row.path) and not _is_shard(row.path):
                    continue
                db.execute(update(AssetRow).where(AssetRow.id == row.id).values(status="missing"))
                self._report.missing.append(row.path)

    def _queue(self, op: str, payload: Any) -> None:
        self._ops.append((op, payload))
        if len(self._ops) >= self._batch_size:
            self.flush()

    def _existing(self, db: Session, ops) -> dict[str, AssetRow]:
        paths = set()
        for op, payload in ops:
            if op == "insert":
                paths.add(payload.found.path)
            elif op == "move":
                paths.add(payload[1].path)
        if not paths:
            return {}
        rows = db.scalars(select(AssetRow).where(AssetRow.path.in_(paths)))
        return {r.path: r for r in rows}

    def _apply_insert(self, db: Session, existing: dict[str, AssetRow], result: ReadResult):
        row = existing.get(result.found.path)
        if row is not None:  # another scan inserted it meanwhile
            self._fill(row, result)
            return
        row = AssetRow(path=result.found.path, first_seen=self._now, overrides={}, provenance=None)
        self._fill(row, result)
        db.add(row)
        self._count(result, self._report.new)

    def _apply_update(self, db: Session, existing, payload) -> None:
        row_id, result = payload
        row = db.get(AssetRow, row_id)
        if row is None:
            return
        content_changed = (row.size, row.mtime_ns, row.inode) != result.found.stat.key
        self._fill(row, result)
        if content_changed:
            db.execute(delete(HashRow).where(HashRow.asset_id == row.id))
        self._count(result, self._report.changed)

    def _apply_move(self, db: Session, existing, payload) -> None:
        known, found, result = payload
        row = db.get(AssetRow, known.id)
        clash = existing.get(found.path)
        if row is None or (clash is not None and clash.id != known.id):
            if result is not None:
                self._apply_insert(db, existing, result)
            return
        old_path = row.path
        row.path = found.path
        row.name = asset_name(found.path, found.is_folder)
        if result is not None:
            self._fill(row, result)
        else:
            row.status = "ok"
            row.last_seen = self._now
        self._report.moved.append((old_path, found.path))

    def _fill(self, row: AssetRow, result: ReadResult) -> None:
        fill_row(row, result, self._now)

    def _count(self, result: ReadResult, bucket: list[str]) -> None:
        if result.error:
            self._report.unreadable.append((result.found.path, result.error))
        else:
            bucket.append(result.found.path)


def _is_shard(path: str) -> bool:
    """A shard of a sharded save_pretrained folder: catalogued as a file by older versions,
    now part of its folder's asset, so its own row is stale."""
    try:
        return Path(path).name in formats.sharded_component_files(Path(path).parent)
    except OSError:
        return False


def fill_row(row: AssetRow, result: ReadResult, now: float) -> None:
    """Write what reading the file found into its row; the user's overrides stay on top."""
    for key, value in row_values(result, now, row.overrides or {}).items():
        setattr(row, key, value)


def row_values(result: ReadResult, now: float, overrides: dict[str, str]) -> dict[str, Any]:
    """The asset columns a read sets (all but id, first_seen, overrides and provenance)."""
    f = result.found
    name = asset_name(f.path, f.is_folder)
    columns, text = result.columns, result.search
    if overrides:
        detected = Identity.from_json(json.loads(result.identity_json))
        effective = apply_overrides(detected, overrides)
        columns, text = effective_columns(effective), search_text(name, effective)
    return {
        "path": f.path,
        "name": name,
        "size": f.stat.size,
        "mtime_ns": f.stat.mtime_ns,
        "device": f.stat.device,
        "inode": f.stat.inode,
        "format": result.format,
        "status": result.status,
        "error": result.error,
        "identity": result.identity_json,
        "header_metadata": result.header_metadata,
        "warnings": result.warnings,
        "fingerprint": result.fingerprint,
        "folder_hint": result.hint,
        "search_text": text,
        "last_seen": now,
        "overrides": overrides,
        **columns,
    }


def _under(column, root: str):
    """SQL condition: ``column`` is ``root`` or a path below it (an index range, no LIKE)."""
    if not os.path.isdir(root):
        return column == root
    prefix = root if root.endswith(os.sep) else root + os.sep
    return (column >= prefix) & (column < prefix[:-1] + chr(ord(os.sep) + 1))


# What a rescan compares for every file, in Listing.state's order; the index
# ix_assets_scan_state covers these columns (and status), so loading 50,000 of them reads one
# compact index instead of rows full of identity JSON.
_STATE_COLUMNS = (AssetRow.path, AssetRow.size, AssetRow.mtime_ns, AssetRow.inode, AssetRow.device)
# What move detection needs, loaded only for vanished and missing rows.
_KNOWN_COLUMNS = (
    AssetRow.id,
    AssetRow.path,
    AssetRow.size,
    AssetRow.mtime_ns,
    AssetRow.device,
    AssetRow.inode,
    AssetRow.status,
    AssetRow.fingerprint,
)


def _load_state(db: Session, roots: list[str]) -> dict[str, tuple[int, int, int, int]]:
    """``path -> (size, mtime_ns, inode, device)`` for present rows under ``roots``."""
    state: dict[str, tuple[int, int, int, int]] = {}
    conn = db.connection()
    for root in roots:
        query = select(*_STATE_COLUMNS).where(
            _under(AssetRow.path, root), AssetRow.status != "missing"
        )
        result = conn.execute(query)
        # The driver's plain tuples: these columns need no result processing, and building
        # 50,000 SQLAlchemy Rows would cost as much as the whole walk of the disk.
        state.update({r[0]: r[1:] for r in result.cursor.fetchall()})
        result.close()
    return state


def _load_by_path(db: Session, paths: list[str]) -> list[_Known]:
    rows: list[_Known] = []
    conn = db.connection()
    for start in range(0, len(paths), 500):
        chunk = paths[start : start + 500]
        rows += conn.execute(select(*_KNOWN_COLUMNS).where(AssetRow.path.in_(chunk))).all()
    return rows


def _load_missing(db: Session) -> list[_Known]:
    return list(
        db.connection().execute(select(*_KNOWN_COLUMNS).where(AssetRow.status == "missing"))
    )
