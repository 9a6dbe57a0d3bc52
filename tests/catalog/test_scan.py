"""pantry scan: incremental, move-aware, never stopped by a bad file."""

from __future__ import annotations

import os
import shutil
import threading

import pytest

from pantry import formats
from pantry.catalog import Catalog
from tests.catalog.helpers import write_unique
from tests.fixtures.modelfiles import write_diffusers_folder, write_model


@pytest.fixture
def library(models):
    """An A1111-style tree: one SDXL checkpoint, one SDXL LoRA, one VAE."""
    write_unique(models / "Stable-diffusion", "sdxl_base_checkpoint", "base.safetensors")
    write_unique(models / "Lora", "kohya_sd15_lora", "detail.safetensors")
    write_unique(models / "VAE", "sdxl_vae", "sdxl_vae.safetensors")
    return models


def count_reads(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = formats.read_header

    def counting(path):
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(formats, "read_header", counting)
    return calls


def test_first_scan_catalogs_every_model_file_with_its_identity(catalog, library):
    report = catalog.scan([library])

    assert report.counts()["new"] == 3
    kinds = {a.name: (a.kind, a.base) for a in catalog.find()}
    assert kinds["base"] == ("checkpoint", "sdxl")
    assert kinds["detail"] == ("lora", "sd1")
    assert kinds["sdxl_vae"][0] == "vae"


def test_folder_layout_is_recorded_as_evidence_only(catalog, models):
    # A LoRA stored in ComfyUI's checkpoints folder is still a LoRA.
    write_unique(models / "checkpoints", "kohya_sdxl_lora", "misplaced.safetensors")
    catalog.scan([models])
    asset = catalog.resolve("misplaced")
    assert asset.kind == "lora"
    folder_facts = [e for e in asset.identity.evidence if e.source == "folder"]
    assert folder_facts and "checkpoint" in folder_facts[0].fact


def test_unchanged_files_are_not_opened_on_rescan(catalog, library, monkeypatch):
    catalog.scan([library])
    reads = count_reads(monkeypatch)

    report = catalog.scan([library])

    assert reads == []
    assert report.counts() == {
        "new": 0,
        "changed": 0,
        "moved": 0,
        "missing": 0,
        "unreadable": 0,
        "unchanged": 3,
    }


def test_scan_without_roots_rescans_the_remembered_ones(catalog, library):
    catalog.scan([library])
    write_unique(library / "Lora", "kohya_sd15_lora", "new_one.safetensors")

    report = catalog.scan()

    assert report.new == [str(library / "Lora" / "new_one.safetensors")]
    assert catalog.roots() == [str(library)]


def test_changed_file_is_reread_and_loses_its_stale_hashes(catalog, library):
    catalog.scan([library])
    catalog.hash(["detail"])
    path = library / "Lora" / "detail.safetensors"
    with path.open("r+b") as f:  # new weights, same size: the mtime tells
        f.seek(-4096, os.SEEK_END)
        f.write(os.urandom(4096))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))

    report = catalog.scan([library])

    assert report.changed == [str(path)]
    assert catalog.resolve("detail").hashes == {}


def test_renamed_file_keeps_its_row_tags_overrides_and_hashes(catalog, library):
    catalog.scan([library])
    before = catalog.set_tags("detail", add=["anime"])
    catalog.set_overrides("detail", {"lineage": "pony"})
    catalog.hash(["detail"])
    hashes = catalog.resolve("detail").hashes
    new_path = library / "Lora" / "pony" / "detail_v2.safetensors"
    new_path.parent.mkdir()
    os.rename(library / "Lora" / "detail.safetensors", new_path)

    report = catalog.scan([library])

    assert report.counts()["moved"] == 1 and report.counts()["missing"] == 0
    after = catalog.resolve("detail_v2")
    assert after.id == before.id
    assert after.tags == ["anime"]
    assert after.identity.lineage == "pony"
    assert after.hashes == hashes


def test_file_copied_to_another_filesystem_is_matched_by_fingerprint(catalog, library):
    # A copy-then-delete (what a move across filesystems is) gets a new inode.
    catalog.scan([library])
    before = catalog.set_tags("detail", add=["favourite"])
    old = library / "Lora" / "detail.safetensors"
    new = library / "Lora" / "detail_renamed.safetensors"
    shutil.copy2(old, new)
    old.unlink()

    report = catalog.scan([library])

    assert report.moved == [(str(old), str(new))]
    assert catalog.resolve("detail_renamed").id == before.id
    assert catalog.resolve("detail_renamed").tags == ["favourite"]


def test_a_different_file_with_the_same_layout_is_not_taken_for_a_move(catalog, library):
    catalog.scan([library])
    old = library / "Lora" / "detail.safetensors"
    old.unlink()
    write_unique(library / "Lora", "kohya_sd15_lora", "other.safetensors")

    report = catalog.scan([library])

    assert report.new == [str(library / "Lora" / "other.safetensors")]
    assert report.missing == [str(old)]


def test_vanished_file_is_marked_missing_and_prune_deletes_it(catalog, library):
    catalog.scan([library])
    (library / "VAE" / "sdxl_vae.safetensors").unlink()

    catalog.scan([library])

    assert [a.name for a in catalog.find(missing=True)] == ["sdxl_vae"]
    assert "sdxl_vae" not in [a.name for a in catalog.find(missing=False)]
    assert catalog.prune() == [str(library / "VAE" / "sdxl_vae.safetensors")]
    assert catalog.find(missing=True) == []


def test_missing_file_that_comes_back_elsewhere_gets_its_row_back(catalog, library, tmp_path):
    catalog.scan([library])
    before = catalog.set_tags("detail", add=["keep"])
    parked = tmp_path / "parked.safetensors"
    shutil.move(library / "Lora" / "detail.safetensors", parked)
    catalog.scan([library])
    assert catalog.get(before.id).status == "missing"

    shutil.move(parked, library / "Lora" / "detail_back.safetensors")
    catalog.scan([library])

    restored = catalog.get(before.id)
    assert (restored.status, restored.name, restored.tags) == ("ok", "detail_back", ["keep"])


def test_corrupt_file_becomes_an_unreadable_row_and_the_scan_goes_on(catalog, library):
    bad = library / "Lora" / "truncated.safetensors"
    bad.write_bytes((500).to_bytes(8, "little") + b'{"a": ')

    report = catalog.scan([library])

    assert report.counts()["new"] == 3
    assert [p for p, _ in report.unreadable] == [str(bad)]
    asset = catalog.resolve("truncated")
    assert asset.status == "unreadable" and asset.error


def test_symlinked_folders_are_followed_without_looping(catalog, models, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    write_unique(elsewhere, "kohya_sd15_lora", "linked.safetensors")
    (models / "link").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "loop").symlink_to(models, target_is_directory=True)

    report = catalog.scan([models])

    assert report.new == [str(models / "link" / "linked.safetensors")]


def test_diffusers_folder_is_one_asset_and_not_descended_into(catalog, models):
    folder = write_diffusers_folder(models, "sd15")

    report = catalog.scan([models])

    assert report.new == [str(folder)]
    asset = catalog.resolve("sd15")
    assert asset.format == "diffusers"


def test_add_file_records_provenance(catalog, models):
    path = write_model(models, "kohya_sd15_lora", filename="from_hub.safetensors")
    asset = catalog.add_file(path, provenance={"source": "huggingface", "repo": "a/b"})
    assert asset.provenance == {"source": "huggingface", "repo": "a/b"}
    assert catalog.resolve("from_hub").id == asset.id


def test_scanning_a_folder_that_does_not_exist_reports_it(catalog, tmp_path):
    report = catalog.scan([tmp_path / "nope"])
    assert report.errors and "nope" in report.errors[0]


def test_catalog_in_a_fresh_process_sees_the_scan(tmp_path, library):
    with Catalog.open(tmp_path / "c.db") as first:
        first.scan([library])
    with Catalog.open(tmp_path / "c.db") as second:
        assert len(second.find()) == 3


def test_reading_in_worker_processes_gives_the_same_rows(tmp_path, library):
    if threading.active_count() > 1:
        # The scan never forks a multi-threaded process (forked locks); earlier tests in
        # this process may have left library threads (HTTP clients) behind.
        pytest.skip("other threads are running in this test process")
    (library / "Lora" / "broken.safetensors").write_bytes(b"\x00" * 4)

    def rows(parallel: str):
        with Catalog.open(tmp_path / f"{parallel}.db") as catalog:
            assert catalog.scan([library], parallel=parallel).reader == parallel
            return {
                a.name: (a.kind, a.base, a.status, a.error, a.identity.to_json())
                for a in catalog.find()
            }

    assert rows("processes") == rows("threads")
