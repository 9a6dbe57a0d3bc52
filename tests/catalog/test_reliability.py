"""A killed scan or hash leaves a consistent catalog; concurrent scans lose nothing."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pantry.catalog import Catalog
from tests.fixtures.modelfiles import write_safetensors

FILES = 240
REPO = Path(__file__).resolve().parents[2]


def small_loras(folder: Path, count: int) -> list[Path]:
    layout = {
        "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": ("F16", (4, 320)),
        "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight": ("F16", (320, 4)),
    }
    paths = []
    for i in range(count):
        path = write_safetensors(folder / f"sub{i % 7}" / f"lora_{i:04d}.safetensors", layout)
        with path.open("r+b") as f:  # distinct weights, as real files have
            f.seek(-64, os.SEEK_END)
            f.write(os.urandom(64))
        paths.append(path)
    return paths


def start(action: str, db: Path, *roots: Path, delay: float, batch: int = 10, parallel="threads"):
    args = [sys.executable, "-m", "tests.catalog.worker", action, str(db), *map(str, roots)]
    args += ["--delay", str(delay), "--batch", str(batch), "--parallel", parallel]
    return subprocess.Popen(args, cwd=REPO, stderr=subprocess.PIPE)


def rows(db: Path, table: str = "assets") -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet


def kill_when(proc, condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def integrity_ok(db: Path) -> bool:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def children(pid: int) -> list[int]:
    listed = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True)
    return [int(p) for p in listed.stdout.split()]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.mark.parametrize("parallel", ["threads", "processes"])
def test_scan_killed_midway_is_completed_by_the_next_scan(tmp_path, models, parallel):
    small_loras(models, FILES)
    db = tmp_path / "c.db"
    proc = start("scan", db, models, delay=0.01, parallel=parallel)
    readers: list[int] = []

    def progressed() -> bool:
        readers[:] = children(proc.pid)
        return rows(db) >= 40

    kill_when(proc, progressed)

    if parallel == "processes":  # the reader processes leave with their parent
        assert readers
        deadline = time.monotonic() + 5
        while any(alive(p) for p in readers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(p) for p in readers)
    assert integrity_ok(db)
    kept = rows(db)
    assert 40 <= kept < FILES
    with Catalog.open(db) as catalog:
        report = catalog.scan([models])
        assets = catalog.find()
    assert len(report.new) == FILES - kept
    assert len(assets) == FILES == len({a.path for a in assets})
    assert {a.status for a in assets} == {"ok"}


def test_hash_killed_midway_keeps_finished_files_and_the_next_run_completes(tmp_path, models):
    paths = small_loras(models, FILES)
    db = tmp_path / "c.db"
    with Catalog.open(db) as catalog:
        catalog.scan([models])
    proc = start("hash", db, delay=0.01)
    kill_when(proc, lambda: rows(db, "asset_hashes") >= 30)

    assert integrity_ok(db)
    done = rows(db, "asset_hashes")
    with Catalog.open(db) as catalog:
        report = catalog.hash(None)
        stored = {str(a.path): a.hashes["sha256"] for a in catalog.find()}
    assert (len(report.cached), len(report.hashed)) == (done, FILES - done)
    assert stored == {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_two_scans_at_once_lose_nothing(tmp_path, models):
    first, second = models / "first", models / "second"
    small_loras(first, FILES // 2)
    small_loras(second, FILES // 2)
    db = tmp_path / "c.db"
    procs = [
        start("scan", db, first, delay=0.005),
        start("scan", db, first, second, delay=0.005),
    ]
    for proc in procs:
        assert proc.wait(timeout=60) == 0, proc.stderr.read().decode()

    with Catalog.open(db) as catalog:
        assets = catalog.find()
        assert catalog.scan().counts()["unchanged"] == FILES
    assert len(assets) == FILES == len({a.path for a in assets})
    assert {a.status for a in assets} == {"ok"}
