"""Catalog speed against bare baselines measured in the same run.

    python benchmarks/bench_catalog.py [--files 2000] [--tree 50000] [--gib 1] [--only NAME]

1. first scan: ``Catalog.scan`` of N header-faithful files (SDXL checkpoints, SDXL and SD1
   LoRAs, VAEs; sparse) into a new catalog, against a loop that opens each file, reads the
   8-byte length and the header, and ``json.loads`` it. Target <= 1.5x.
2. rescan: ``Catalog.scan`` of an unchanged tree of M tiny valid files, against a bare
   recursive ``os.scandir`` + ``stat`` walk. Target <= 2x.
3. hash: ``pantry.hashing.compute_hashes`` of a 1 GiB file with every hash (SHA-256, addnet,
   legacy, BLAKE3), against ``sha256sum`` alone. Target: >= 0.9x its throughput.

Test trees are written once under $PANTRY_BENCH_DIR (default: <tmp>/pantry-bench) and reused.
Times are the best of a few alternating runs, with the page cache warm for both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pantry.catalog import Catalog  # noqa: E402
from pantry.hashing import compute_hashes  # noqa: E402
from tests.fixtures.modelfiles import (  # noqa: E402
    layout,
    layout_metadata,
    safetensors_header_bytes,
)

# (layout, share of the files): a library is mostly LoRAs, some checkpoints and VAEs.
FIRST_SCAN_MIX = (
    ("sdxl_base_checkpoint", 0.15),
    ("kohya_sdxl_lora", 0.30),
    ("kohya_sd15_lora", 0.30),
    ("sdxl_vae", 0.25),
)
TINY_LAYOUT = "embedding_sd15"
FILES_PER_FOLDER = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--tree", type=int, default=50_000)
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["first_scan", "rescan", "hash"])
    args = parser.parse_args()
    work = Path(os.environ.get("PANTRY_BENCH_DIR", Path(tempfile.gettempdir()) / "pantry-bench"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{'benchmark':<34}{'pantry':>10}{'baseline':>10}{'ratio':>8}  target")
    results = []
    if args.only in (None, "first_scan"):
        results.append(bench_first_scan(work, args.files, args.repeat))
    if args.only in (None, "rescan"):
        results.append(bench_rescan(work, args.tree, args.repeat))
    if args.only in (None, "hash"):
        results.append(bench_hash(work, args.gib, args.repeat))
    sys.exit(0 if all(results) else 1)


def bench_first_scan(work: Path, count: int, repeat: int) -> bool:
    tree = work / f"library-{count}"
    if not (tree / ".complete").exists():
        write_library(tree, count)
    files = sorted(p for p in tree.rglob("*.safetensors"))

    def baseline() -> None:
        for path in files:
            with open(path, "rb") as f:
                n = int.from_bytes(f.read(8), "little")
                json.loads(f.read(n))

    def pantry() -> None:
        db = work / "first-scan.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        with Catalog.open(db) as catalog:
            report = catalog.scan([tree])
        assert len(report.new) == len(files), report.counts()

    baseline()  # warm the page cache
    ours, base = best_of(repeat, pantry, baseline)
    return report(f"first scan, {len(files)} files", ours, base, 1.5, lower_is_better=True)


def bench_rescan(work: Path, count: int, repeat: int) -> bool:
    tree = work / f"tree-{count}"
    if not (tree / ".complete").exists():
        write_tiny_tree(tree, count)
    db = work / f"rescan-{count}.db"
    with Catalog.open(db) as catalog:
        started = time.perf_counter()
        first = catalog.scan([tree])
        if first.new:
            print(
                f"  (populated the catalog: {len(first.new)} files in "
                f"{time.perf_counter() - started:.1f} s)"
            )

    def baseline() -> None:
        stack = [str(tree)]
        while stack:
            for entry in os.scandir(stack.pop()):
                if entry.is_dir():
                    stack.append(entry.path)
                elif entry.name.endswith(".safetensors"):
                    entry.stat()

    def pantry() -> None:
        with Catalog.open(db) as catalog:
            report = catalog.scan([tree])
        assert report.unchanged == count, report.counts()

    baseline()
    ours, base = best_of(repeat, pantry, baseline)
    return report(f"rescan, {count} unchanged files", ours, base, 2.0, lower_is_better=True)


def bench_hash(work: Path, gib: float, repeat: int) -> bool:
    if shutil.which("sha256sum") is None:
        print("hash: sha256sum not found, skipped")
        return True
    path = work / f"random-{gib:g}GiB.safetensors"
    size = int(gib * 2**30)
    if not path.exists() or path.stat().st_size != size:
        write_random_safetensors(path, size)

    def baseline() -> None:
        subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)

    def pantry() -> None:
        compute_hashes(path, blake3=True)

    baseline()
    ours, base = best_of(repeat, pantry, baseline)
    # Throughput ratio: how fast pantry's all-hashes pass is relative to sha256sum's one hash.
    return report(
        f"hash {gib:g} GiB, every hash vs sha256sum", ours, base, 0.9, lower_is_better=False
    )


# -- helpers --------------------------------------------------------------------------------


def best_of(repeat: int, ours: Callable[[], None], base: Callable[[], None]):
    ours_times, base_times = [], []
    for _ in range(repeat):
        base_times.append(timed(base))
        ours_times.append(timed(ours))
    return min(ours_times), min(base_times)


def timed(func: Callable[[], None]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def report(name: str, ours: float, base: float, target: float, lower_is_better: bool) -> bool:
    if lower_is_better:
        ratio, ok, rule = ours / base, ours / base <= target, f"<= {target}x baseline time"
    else:
        ratio, ok, rule = base / ours, base / ours >= target, f">= {target}x baseline speed"
    verdict = "ok" if ok else "MISSED"
    print(f"{name:<34}{ours:>9.2f}s{base:>9.2f}s{ratio:>7.2f}x  {rule}: {verdict}", flush=True)
    return ok


def write_library(tree: Path, count: int) -> None:
    """Header-faithful sparse files; the last bytes are unique, as real weights are."""
    shutil.rmtree(tree, ignore_errors=True)
    headers = {
        name: safetensors_header_bytes(layout(name), layout_metadata(name))
        for name, _ in FIRST_SCAN_MIX
    }
    index = 0
    for name, share in FIRST_SCAN_MIX:
        raw, data_size = headers[name]
        for i in range(round(count * share)):
            folder = tree / name / f"{i // FILES_PER_FOLDER:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / f"{name}_{i:05d}.safetensors", "wb") as f:
                f.write(len(raw).to_bytes(8, "little") + raw)
                f.truncate(8 + len(raw) + data_size)
                f.seek(-16, os.SEEK_END)
                f.write(index.to_bytes(16, "little"))
            index += 1
    (tree / ".complete").touch()


def write_tiny_tree(tree: Path, count: int) -> None:
    shutil.rmtree(tree, ignore_errors=True)
    raw, data_size = safetensors_header_bytes(layout(TINY_LAYOUT), {})
    for i in range(count):
        folder = tree / f"{i // 1000:03d}" / f"{(i // FILES_PER_FOLDER) % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"emb_{i:06d}.safetensors", "wb") as f:
            f.write(len(raw).to_bytes(8, "little") + raw)
            data = bytearray(data_size)
            data[-8:] = i.to_bytes(8, "little")
            f.write(data)
    (tree / ".complete").touch()


def write_random_safetensors(path: Path, size: int) -> None:
    """A valid safetensors file of exactly ``size`` bytes with one tensor of random bytes."""
    data_size = size - 128
    for _ in range(3):  # the header's length depends on the digits of data_size
        raw, _ = safetensors_header_bytes({"w": ("U8", (data_size,))}, {})
        data_size = size - 8 - len(raw)
    with open(path, "wb") as f:
        f.write(len(raw).to_bytes(8, "little") + raw)
        left = data_size
        while left:
            chunk = os.urandom(min(left, 16 * 2**20))
            f.write(chunk)
            left -= len(chunk)


if __name__ == "__main__":
    main()
