"""``Catalog``: the library face of the catalog. Every CLI command is a few lines over it.

>>> with Catalog.open() as catalog:               # doctest: +SKIP
...     catalog.scan(["~/sd/models"])
...     lora = catalog.resolve("add_detail", kind="lora")
...     catalog.hash([lora])
...     catalog.find_by_hash(lora.hashes["addnet"][:12])
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from pantry.catalog import store
from pantry.catalog.asset import HASH_ADDNET, HASH_BLAKE3, HASH_LEGACY, HASH_SHA256, Asset
from pantry.catalog.models import AssetRow, HashRow, RenderRow, RootRow, TagRow
from pantry.catalog.overrides import (
    apply_overrides,
    effective_columns,
    row_to_asset,
    search_text,
    validate_overrides,
)
from pantry.catalog.scan import (
    BATCH_SIZE,
    READ_THREADS,
    ScanProgress,
    ScanReport,
    fill_row,
    run_scan,
)
from pantry.catalog.walk import FileStat, read_entry, stat_path
from pantry.errors import AmbiguousRefError, CatalogError, PantryError, RefNotFoundError
from pantry.hashing import Hasher

__all__ = ["Catalog", "DupeGroup", "HashReport", "ScanReport", "VerifyReport"]

MIN_HASH_PREFIX = 8
_HEX = re.compile(r"^(?:0x)?([0-9a-fA-F]+)$")
_ID_REF = re.compile(r"^(?:#|id:)(\d+)$")
_HASH_COLUMNS = {
    HASH_SHA256: HashRow.sha256,
    HASH_ADDNET: HashRow.addnet,
    HASH_LEGACY: HashRow.a1111_legacy,
    HASH_BLAKE3: HashRow.blake3,
}

Ref = str | int | Asset


@dataclass
class HashReport:
    hashed: list[Asset] = field(default_factory=list)  # hashes computed in this run
    cached: list[Asset] = field(default_factory=list)  # hashes still valid for the file
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    bytes: int = 0
    seconds: float = 0.0


@dataclass
class VerifyReport:
    ok: list[Asset] = field(default_factory=list)
    changed: list[tuple[Asset, dict[str, tuple[str, str]]]] = field(default_factory=list)
    missing: list[Asset] = field(default_factory=list)
    not_hashed: list[Asset] = field(default_factory=list)

    @property
    def problems(self) -> bool:
        return bool(self.changed or self.missing)


@dataclass
class DupeGroup:
    """Files with the same SHA-256. ``files``: one list per physical file (its hard links and
    symlinks together), so ``len(files) >= 2`` and ``wasted`` counts real copies only."""

    sha256: str
    size: int
    files: list[list[Asset]]

    @property
    def wasted(self) -> int:
        return self.size * (len(self.files) - 1)


def _db_errors(method):
    @functools.wraps(method)
    def wrapper(self: Catalog, *args, **kwargs):
        with store.errors_as_catalog_error(self.url):
            return method(self, *args, **kwargs)

    return wrapper


class Catalog:
    """An open catalog. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(self, url: str, *, upgrade: bool = True):
        self.url = url
        self.location = store.describe(url)
        self._engine = store.make_engine(url)
        self._write_engine = self._engine.execution_options(**store.WRITE)
        if upgrade:
            store.upgrade(self._engine)

    @classmethod
    def open(cls, path_or_url: str | os.PathLike | None = None, *, upgrade: bool = True):
        """Open (creating and upgrading as needed) the catalog; see ``store.resolve_url``."""
        return cls(store.resolve_url(path_or_url), upgrade=upgrade)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -----------------------------------------------------------------------------

    def revision(self) -> str | None:
        return store.current_revision(self._engine)

    def upgrade(self) -> tuple[str | None, str]:
        return store.upgrade(self._engine)

    # -- scanning ---------------------------------------------------------------------------

    @_db_errors
    def scan(
        self,
        roots: Iterable[str | os.PathLike] | None = None,
        progress: ScanProgress | None = None,
        *,
        threads: int = READ_THREADS,
        batch_size: int = BATCH_SIZE,
        parallel: str = "auto",
    ) -> ScanReport:
        """Scan ``roots`` (remembered for next time); with no roots, rescan remembered ones.

        ``progress(stage, done, total)`` is called as files are listed and read. ``parallel``
        picks how headers are read: "threads", "processes", or "auto" (processes for large
        scans on several cores).
        """
        paths = [os.path.abspath(os.path.expanduser(os.fspath(r))) for r in roots or []]
        if not paths:
            paths = self.roots()
            if not paths:
                raise PantryError("no folders to scan: give one, e.g. `pantry scan ~/sd/models`")
        self._remember_roots(paths)
        report = run_scan(
            self._writer,
            paths,
            progress,
            threads=threads,
            batch_size=batch_size,
            parallel=parallel,
        )
        with self._writer() as db, db.begin():
            for root in db.scalars(select(RootRow).where(RootRow.path.in_(paths))):
                root.last_scan = time.time()
        return report

    @_db_errors
    def roots(self) -> list[str]:
        with self._reader() as db:
            return list(db.scalars(select(RootRow.path).order_by(RootRow.id)))

    @_db_errors
    def add_file(self, path: str | os.PathLike, provenance: dict | None = None) -> Asset:
        """Identify one file or diffusers folder and add (or refresh) its row."""
        path = os.path.abspath(os.fspath(path))
        try:
            found = stat_path(path)
        except OSError as error:
            raise PantryError(f"{path}: {error.strerror or error}") from None
        result = read_entry(found)
        now = time.time()
        with self._writer() as db, db.begin():
            row = db.scalars(select(AssetRow).where(AssetRow.path == path)).first()
            if row is None:
                row = AssetRow(path=path, first_seen=now, overrides={})
                db.add(row)
            elif (row.size, row.mtime_ns, row.inode) != found.stat.key:
                db.execute(delete(HashRow).where(HashRow.asset_id == row.id))
            fill_row(row, result, now)
            if provenance is not None:
                row.provenance = provenance
            db.flush()
            return row_to_asset(row)

    # -- queries ----------------------------------------------------------------------------

    @_db_errors
    def get(self, asset_id: int) -> Asset:
        with self._reader() as db:
            row = db.get(AssetRow, asset_id)
            if row is None:
                raise RefNotFoundError(f"#{asset_id}")
            return row_to_asset(row)

    @_db_errors
    def find(
        self,
        kind: str | None = None,
        base: str | None = None,
        tag: str | None = None,
        text: str | None = None,
        missing: bool | None = None,
    ) -> list[Asset]:
        """Assets matching every given filter (``missing``: True only missing, False none)."""
        query = select(AssetRow).order_by(AssetRow.kind, AssetRow.name, AssetRow.id)
        if kind:
            query = query.where(AssetRow.kind == kind)
        if base:
            query = query.where(AssetRow.base == base)
        if tag:
            query = query.where(AssetRow.tags.any(TagRow.tag == _norm_tag(tag)))
        if text:
            needle = text.lower()
            query = query.where(
                or_(
                    AssetRow.search_text.contains(needle, autoescape=True),
                    AssetRow.tags.any(TagRow.tag.contains(needle, autoescape=True)),
                )
            )
        if missing is True:
            query = query.where(AssetRow.status == "missing")
        elif missing is False:
            query = query.where(AssetRow.status != "missing")
        with self._reader() as db:
            return [row_to_asset(r) for r in db.scalars(query).unique()]

    @_db_errors
    def names(self, kind: str) -> list[tuple[int, str]]:
        """``(id, name)`` of every asset of ``kind``, in :meth:`find`'s order.

        A cheap scan for callers that match names (embeddings a prompt mentions) and then
        :meth:`get` the few that match, instead of building every Asset.
        """
        query = (
            select(AssetRow.id, AssetRow.name)
            .where(AssetRow.kind == kind)
            .order_by(AssetRow.name, AssetRow.id)
        )
        # Core rows, not ORM objects: this runs once per linted recipe over thousands of rows.
        with self._engine.connect() as connection:
            return connection.execute(query).all()  # Rows: named tuples

    @_db_errors
    def find_by_hash(self, prefix: str) -> list[Asset]:
        """Assets whose sha256, addnet, legacy or BLAKE3 hash starts with ``prefix`` (>= 8 hex,
        any case, optional ``0x``). Shorter or non-hex prefixes match nothing."""
        match = _HEX.match(prefix.strip())
        if not match or len(match.group(1)) < MIN_HASH_PREFIX:
            return []
        hex_prefix = match.group(1).lower()
        # An index range instead of LIKE: "g" sorts after every hex digit.
        conditions = [
            (col >= hex_prefix) & (col < hex_prefix + "g") for col in _HASH_COLUMNS.values()
        ]
        query = (
            select(AssetRow)
            .join(HashRow, HashRow.asset_id == AssetRow.id)
            .where(or_(*conditions))
            .order_by(AssetRow.id)
        )
        with self._reader() as db:
            return [row_to_asset(r) for r in db.scalars(query).unique()]

    @_db_errors
    def resolve(self, ref: Ref, kind: str | None = None) -> Asset:
        """The one asset ``ref`` names: an Asset, an id (int ``12``, ``"#12"``, ``"id:12"``),
        a path, a name (file stem, or file name), or a hash prefix of >= 8 hex.

        Present files win over missing rows; hard links and symlinks to one file count once.
        Raises RefNotFoundError or AmbiguousRefError (listing the candidates).
        """
        if isinstance(ref, Asset):
            return ref
        if isinstance(ref, int):
            return self.get(ref)
        text = str(ref).strip()
        candidates = self._candidates(text)
        if not candidates:
            raise RefNotFoundError(text)
        if kind:
            of_kind = [a for a in candidates if a.kind == kind]
            if not of_kind:
                found = ", ".join(sorted({a.kind for a in candidates}))
                raise RefNotFoundError(text, f"it names a {found}, not a {kind}")
            candidates = of_kind
        present = [a for a in candidates if a.status != "missing"]
        candidates = _one_per_file(present or candidates)
        if len(candidates) > 1:
            raise AmbiguousRefError(text, candidates)
        return candidates[0]

    # -- user edits -------------------------------------------------------------------------

    @_db_errors
    def set_tags(self, ref: Ref, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Asset:
        asset = self.resolve(ref)
        with self._writer() as db, db.begin():
            row = db.get(AssetRow, asset.id)
            tags = {t.tag for t in row.tags}
            tags = (tags | {_norm_tag(t) for t in add}) - {_norm_tag(t) for t in remove}
            row.tags = [TagRow(tag=t) for t in sorted(tags) if t]
            db.flush()
            return row_to_asset(row)

    @_db_errors
    def set_overrides(self, ref: Ref, changes: dict[str, str | None]) -> Asset:
        """Set (or with None / "" clear) user overrides of kind, base, lineage, style, ..."""
        cleaned = validate_overrides(changes)
        asset = self.resolve(ref)
        from pantry.identify.identity import Identity

        with self._writer() as db, db.begin():
            row = db.get(AssetRow, asset.id)
            overrides = dict(row.overrides or {})
            for key, value in cleaned.items():
                if value is None:
                    overrides.pop(key, None)
                else:
                    overrides[key] = value
            row.overrides = overrides
            effective = apply_overrides(Identity.from_json(row.identity), overrides)
            for key, value in effective_columns(effective).items():
                setattr(row, key, value)
            row.search_text = search_text(row.name, effective)
            db.flush()
            return row_to_asset(row)

    @_db_errors
    def prune(self) -> list[str]:
        """Delete the rows of missing files; returns their paths."""
        with self._writer() as db, db.begin():
            rows = list(db.scalars(select(AssetRow).where(AssetRow.status == "missing")))
            for row in rows:
                db.delete(row)
            return [r.path for r in rows]

    @_db_errors
    def record_render(
        self,
        recipe_toml: str,
        seed: int | None,
        assets: Iterable[Asset | int],
        output_path: str | os.PathLike | None,
        seconds: float | None = None,
    ) -> int:
        ids = [a.id if isinstance(a, Asset) else int(a) for a in assets]
        with self._writer() as db, db.begin():
            row = RenderRow(
                recipe_toml=recipe_toml,
                seed=seed,
                asset_ids=ids,
                output_path=os.fspath(output_path) if output_path else None,
                seconds=seconds,
                created=time.time(),
            )
            db.add(row)
            db.flush()
            return row.id

    @_db_errors
    def renders(self, limit: int = 50) -> list[dict[str, Any]]:
        query = select(RenderRow).order_by(RenderRow.created.desc()).limit(limit)
        with self._reader() as db:
            return [
                {
                    "id": r.id,
                    "recipe_toml": r.recipe_toml,
                    "seed": r.seed,
                    "asset_ids": r.asset_ids,
                    "output_path": r.output_path,
                    "seconds": r.seconds,
                    "created": r.created,
                }
                for r in db.scalars(query)
            ]

    # -- hashes -----------------------------------------------------------------------------

    @_db_errors
    def hash(
        self,
        assets_or_refs: Iterable[Ref] | None = None,
        blake3: bool = False,
        progress: ScanProgress | None = None,
        *,
        force: bool = False,
    ) -> HashReport:
        """Compute every hash of each file in one read; None means every present file.

        Hashes are cached against the file's (size, mtime_ns, inode): a file whose stored
        hashes still match (and include BLAKE3 when asked) is not read. Each file's hashes are
        committed on their own, so an interrupted run keeps what it finished.
        """
        started = time.perf_counter()
        report = HashReport()
        todo: list[tuple[Asset, FileStat]] = []
        for asset in self._assets_for(assets_or_refs):
            reason = _unhashable(asset)
            try:
                current = None if reason else stat_path(str(asset.path)).stat
            except OSError as error:
                reason = error.strerror or str(error)
            if reason:
                report.skipped.append((str(asset.path), reason))
            elif not force and self._hashes_valid(asset.id, current, blake3):
                report.cached.append(asset)
            else:
                todo.append((asset, current))
        total = sum(st.size for _, st in todo)
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress("hash", done, total)

        with Hasher() as hasher:
            for asset, before in todo:
                try:
                    hashes = hasher.hash_file(asset.path, blake3=blake3, progress=advance)
                    after = stat_path(str(asset.path)).stat
                except OSError as error:
                    report.skipped.append((str(asset.path), error.strerror or str(error)))
                    continue
                if after.key != before.key:
                    report.skipped.append((str(asset.path), "file changed while it was hashed"))
                    continue
                report.hashed.append(self._store_hashes(asset.id, hashes, after))
                report.bytes += after.size
        report.seconds = time.perf_counter() - started
        return report

    @_db_errors
    def verify(
        self, assets_or_refs: Iterable[Ref] | None = None, progress: ScanProgress | None = None
    ) -> VerifyReport:
        """Re-hash files that have stored hashes and report those whose content changed.

        The stored hashes are left as they were, so the difference stays visible until the
        user re-hashes (``pantry hash --force``) or rescans.
        """
        report = VerifyReport()
        todo: list[Asset] = []
        for asset in self._assets_for(assets_or_refs, include_missing=True):
            if not asset.hashes:
                report.not_hashed.append(asset)
            elif asset.status == "missing" or not asset.path.exists():
                report.missing.append(asset)
            else:
                todo.append(asset)
        total = sum(_size_or_zero(a.path) for a in todo)
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress("hash", done, total)

        with Hasher() as hasher:
            for asset in todo:
                try:
                    fresh = hasher.hash_file(
                        asset.path, blake3=HASH_BLAKE3 in asset.hashes, progress=advance
                    )
                except OSError:
                    report.missing.append(asset)
                    continue
                diff = {
                    key: (old, fresh.get(key, ""))
                    for key, old in asset.hashes.items()
                    if fresh.get(key) != old
                }
                if diff:
                    report.changed.append((asset, diff))
                else:
                    report.ok.append(asset)
        return report

    @_db_errors
    def dupes(self) -> tuple[list[DupeGroup], int]:
        """Groups of files with equal locally computed SHA-256, and how many present files
        have no valid hash yet (they may hide more duplicates: ``pantry hash`` them)."""
        query = (
            select(AssetRow)
            .join(HashRow, HashRow.asset_id == AssetRow.id)
            .where(AssetRow.status != "missing", HashRow.sha256.is_not(None))
            .order_by(AssetRow.id)
        )
        groups: dict[str, list[tuple[tuple[int, int], Asset]]] = {}
        with self._reader() as db:
            hashed_ids = set()
            for row in db.scalars(query).unique():
                h = row.hashes
                if (h.size, h.mtime_ns, h.inode) != (row.size, row.mtime_ns, row.inode):
                    continue  # stale: the file changed after it was hashed
                hashed_ids.add(row.id)
                groups.setdefault(h.sha256, []).append(((row.device, row.inode), row_to_asset(row)))
            present = db.scalar(
                select(func.count()).select_from(AssetRow).where(AssetRow.status == "ok")
            )
        result = []
        for sha, members in groups.items():
            by_file: dict[tuple[int, int], list[Asset]] = {}
            for file_key, asset in members:
                by_file.setdefault(file_key, []).append(asset)
            if len(by_file) >= 2:
                result.append(DupeGroup(sha, members[0][1].size, list(by_file.values())))
        result.sort(key=lambda g: -g.wasted)
        return result, max(0, present - len(hashed_ids))

    # -- helpers ----------------------------------------------------------------------------

    def _reader(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    def _writer(self) -> Session:
        return Session(self._write_engine, expire_on_commit=False)

    def _remember_roots(self, paths: list[str]) -> None:
        with self._reader() as db:  # a rescan of known roots needs no write here
            known = set(db.scalars(select(RootRow.path).where(RootRow.path.in_(paths))))
        if known.issuperset(p for p in paths if os.path.isdir(p)):
            return
        with self._writer() as db, db.begin():
            known = set(db.scalars(select(RootRow.path).where(RootRow.path.in_(paths))))
            for path in paths:
                if path not in known and os.path.isdir(path):
                    db.add(RootRow(path=path, added=time.time()))

    def _candidates(self, text: str) -> list[Asset]:
        if m := _ID_REF.match(text):
            try:
                return [self.get(int(m.group(1)))]
            except RefNotFoundError:
                return []
        with self._reader() as db:
            if os.sep in text or text.startswith(("~", ".")) or os.path.exists(text):
                path = os.path.abspath(os.path.expanduser(text))
                rows = list(db.scalars(select(AssetRow).where(AssetRow.path == path)))
                if not rows:
                    try:
                        st = os.stat(path)  # a symlink or hard link to a catalogued file
                        rows = list(
                            db.scalars(
                                select(AssetRow).where(
                                    AssetRow.device == st.st_dev, AssetRow.inode == st.st_ino
                                )
                            )
                        )
                    except OSError:
                        pass
                if rows:
                    return [row_to_asset(r) for r in rows]
            for condition in (
                AssetRow.name == text,
                AssetRow.path.endswith(os.sep + text),
                func.lower(AssetRow.name) == text.lower(),
            ):
                rows = list(db.scalars(select(AssetRow).where(condition).order_by(AssetRow.id)))
                if rows:
                    return [row_to_asset(r) for r in rows]
        return self.find_by_hash(text)

    def _assets_for(self, refs: Iterable[Ref] | None, include_missing: bool = False) -> list[Asset]:
        if refs is None:
            return self.find(missing=None if include_missing else False)
        return [self.resolve(r) for r in refs]

    def _hashes_valid(self, asset_id: int, current: FileStat, blake3: bool) -> bool:
        with self._reader() as db:
            h = db.get(HashRow, asset_id)
            if h is None or (h.size, h.mtime_ns, h.inode) != current.key:
                return False
            return h.sha256 is not None and (h.blake3 is not None or not blake3)

    def _store_hashes(self, asset_id: int, hashes: dict[str, str], st: FileStat) -> Asset:
        # Identify again with the hashes: a known file (the fp16-fix VAE, a known base
        # checkpoint) is only told apart from its look-alikes by its hash. The header read
        # costs nothing next to the full read the hashes took.
        path = self.get(asset_id).path
        try:
            refreshed = read_entry(stat_path(str(path)), hashes)
        except OSError:
            refreshed = None
        with self._writer() as db, db.begin():
            row = db.get(AssetRow, asset_id)
            if row is None:
                raise CatalogError(f"asset #{asset_id} was removed while it was hashed")
            if refreshed is not None and refreshed.status == "ok":
                fill_row(row, refreshed, row.last_seen or time.time())
            h = row.hashes or HashRow(asset_id=asset_id)
            h.sha256 = hashes.get(HASH_SHA256)
            h.addnet = hashes.get(HASH_ADDNET)
            h.a1111_legacy = hashes.get(HASH_LEGACY)
            h.blake3 = hashes.get(HASH_BLAKE3)
            h.size, h.mtime_ns, h.inode = st.size, st.mtime_ns, st.inode
            h.computed_at = time.time()
            row.hashes = h
            db.flush()
            return row_to_asset(row)


def _norm_tag(tag: str) -> str:
    return tag.strip().lower()


def _unhashable(asset: Asset) -> str | None:
    if asset.status == "missing":
        return "file is missing"
    if asset.format == "diffusers":
        return "diffusers folders are not hashed as one file"
    return None


def _size_or_zero(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _one_per_file(assets: list[Asset]) -> list[Asset]:
    """Drop hard links / symlinks of a file already in the list (same device and inode)."""
    if len(assets) < 2:
        return assets
    seen: set[tuple[int, int]] = set()
    kept = []
    for asset in assets:
        try:
            st = asset.path.stat()
            key = (st.st_dev, st.st_ino)
        except OSError:
            kept.append(asset)
            continue
        if key not in seen:
            seen.add(key)
            kept.append(asset)
    return kept
