"""Incremental scan: bring the catalog in step with the folders on disk.

One scan: walk the roots; a file whose (size, mtime_ns, inode) matches its row is skipped
without being opened; new and changed files are read in a thread pool (header reads are I/O);
a new path that is really a moved file takes over the vanished row (matched by (device, inode)
first, then by size and fingerprint), so identity, tags, hashes and overrides follow the file;
rows whose files vanished are marked missing, never deleted. Writes go in batches, one
transaction each, so a killed scan leaves whole batches and the next scan completes the rest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pantry.catalog.models import AssetRow, HashRow
from pantry.catalog.overrides import apply_overrides, effective_columns, search_text
from pantry.catalog.walk import Found, ReadResult, asset_name, read_entry, walk

READ_THREADS = 4
BATCH_SIZE = 200

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


@dataclass
class _Known:
    """The columns of a row that a scan compares, loaded in one query."""

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
) -> ScanReport:
    started = time.perf_counter()
    now = time.time()
    report = ScanReport(roots=list(roots))
    found = {f.path: f for f in walk(roots, report.errors.append)}
    if progress:
        progress("walk", len(found), len(found))

    with open_session() as db:
        known = _load_known(db, roots)
        missing_pool = _load_missing(db)

    to_read: list[Found] = []
    moved_by_inode: list[tuple[_Known, Found]] = []
    unchanged_ids: list[int] = []
    new_paths: list[Found] = []
    for path, f in found.items():
        row = known.get(path)
        if row is None:
            new_paths.append(f)
        elif row.status != "missing" and (row.size, row.mtime_ns, row.inode) == f.stat.key:
            unchanged_ids.append(row.id)
        else:
            to_read.append(f)
    report.unchanged = len(unchanged_ids)

    vanished = [r for p, r in known.items() if p not in found and r.status != "missing"]
    pool = _MovePool(vanished + [r for r in missing_pool if r.path not in found])
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
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="pantry-scan") as ex:
        for done, result in enumerate(ex.map(read_entry, to_read), start=1):
            path = result.found.path
            target = known.get(path)
            if target is not None:
                writer.update(target, result, changed=True)
            elif (row := pool.take_by_fingerprint(result)) is not None:
                writer.move(row, result.found, result)
            else:
                writer.insert(result)
            if progress:
                progress("read", done, total)
    writer.flush()
    writer.mark_missing([r for r in pool.remaining() if r.status != "missing"])
    writer.touch(unchanged_ids)
    report.seconds = time.perf_counter() - started
    return report


class _MovePool:
    """Rows whose files vanished: candidates to be the old self of a new path."""

    def __init__(self, rows: Iterable[_Known]):
        self._rows = {r.id: r for r in rows}
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
        return list(self._rows.values())

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

    def update(self, row: _Known, result: ReadResult, changed: bool) -> None:
        self._queue("update", (row, result, changed))

    def move(self, row: _Known, found: Found, result: ReadResult | None = None) -> None:
        self._queue("move", (row, found, result))

    def flush(self) -> None:
        if not self._ops:
            return
        ops, self._ops = self._ops, []
        with self._open() as db, db.begin():
            existing = self._existing(db, ops)
            for op, payload in ops:
                getattr(self, f"_apply_{op}")(db, existing, payload)

    def mark_missing(self, rows: list[_Known]) -> None:
        # Re-check on disk inside the write: another scan may have seen the file come back.
        with self._open() as db, db.begin():
            for row in rows:
                if os.path.lexists(row.path):
                    continue
                db.execute(update(AssetRow).where(AssetRow.id == row.id).values(status="missing"))
                self._report.missing.append(row.path)

    def touch(self, ids: list[int]) -> None:
        with self._open() as db, db.begin():
            for start in range(0, len(ids), 30_000):
                chunk = ids[start : start + 30_000]
                db.execute(
                    update(AssetRow).where(AssetRow.id.in_(chunk)).values(last_seen=self._now)
                )

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
        known, result, _changed = payload
        row = db.get(AssetRow, known.id)
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
        f = result.found
        identity = result.identity
        overrides = dict(row.overrides or {})
        effective = apply_overrides(identity, overrides) if overrides else identity
        row.name = asset_name(f.path, f.is_folder)
        row.size, row.mtime_ns = f.stat.size, f.stat.mtime_ns
        row.device, row.inode = f.stat.device, f.stat.inode
        row.format = result.format
        row.status = result.status
        row.error = result.error
        row.identity = identity.to_json()
        row.header_metadata = result.header_metadata
        row.warnings = result.warnings
        row.fingerprint = result.fingerprint
        row.folder_hint = result.hint
        row.search_text = search_text(row.name, effective)
        row.last_seen = self._now
        for key, value in effective_columns(effective).items():
            setattr(row, key, value)

    def _count(self, result: ReadResult, bucket: list[str]) -> None:
        if result.error:
            self._report.unreadable.append((result.found.path, result.error))
        else:
            bucket.append(result.found.path)


def _under(column, root: str):
    """SQL condition: ``column`` is ``root`` or a path below it (an index range, no LIKE)."""
    root = root.rstrip(os.sep) or os.sep
    prefix = root if root.endswith(os.sep) else root + os.sep
    upper = prefix[:-1] + chr(ord(os.sep) + 1)
    return (column == root) | ((column >= prefix) & (column < upper))


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


def _load_known(db: Session, roots: list[str]) -> dict[str, _Known]:
    known: dict[str, _Known] = {}
    for root in roots:
        for r in db.execute(select(*_KNOWN_COLUMNS).where(_under(AssetRow.path, root))):
            known[r.path] = _Known(*r)
    return known


def _load_missing(db: Session) -> list[_Known]:
    return [
        _Known(*r) for r in db.execute(select(*_KNOWN_COLUMNS).where(AssetRow.status == "missing"))
    ]
