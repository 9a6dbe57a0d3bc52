"""Finding assets: REFs, filters, hash prefixes, duplicates, tags and overrides."""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest

from pantry.errors import AmbiguousRefError, PantryError, RefNotFoundError
from tests.catalog.helpers import write_unique
from tests.fixtures.modelfiles import write_model


@pytest.fixture
def library(catalog, models):
    write_unique(models / "checkpoints", "sdxl_base_checkpoint", "juggernaut.safetensors")
    write_unique(models / "loras", "kohya_sdxl_lora", "detail.safetensors")
    write_unique(models / "loras" / "sd15", "kohya_sd15_lora", "detail_sd15.safetensors")
    write_unique(models / "loras" / "sd15", "kohya_sd15_lora", "shared.safetensors")
    write_unique(models / "loras" / "other", "kohya_sd15_lora", "shared.safetensors")
    catalog.scan([models])
    return models


def test_ref_by_name_path_and_id(catalog, library):
    asset = catalog.resolve("juggernaut")
    assert catalog.resolve(str(library / "checkpoints" / "juggernaut.safetensors")).id == asset.id
    assert catalog.resolve("juggernaut.safetensors").id == asset.id
    assert catalog.resolve(f"#{asset.id}").id == asset.id
    assert catalog.resolve(f"id:{asset.id}").id == asset.id


def test_ref_by_any_stored_hash_prefix(catalog, library):
    catalog.hash(["detail"], blake3=True)
    path = library / "loras" / "detail.safetensors"
    content = path.read_bytes()
    data_offset = 8 + int.from_bytes(content[:8], "little")
    sha = hashlib.sha256(content).hexdigest()
    addnet = hashlib.sha256(content[data_offset:]).hexdigest()
    for prefix in (sha[:10], sha[:8].upper(), "0x" + addnet[:12], addnet):
        assert catalog.resolve(prefix).name == "detail", prefix
    blake = catalog.resolve("detail").hashes["blake3"]
    assert [a.name for a in catalog.find_by_hash(blake[:8])] == ["detail"]


def test_short_hash_prefix_matches_nothing(catalog, library):
    catalog.hash(["detail"])
    assert catalog.find_by_hash(catalog.resolve("detail").hashes["sha256"][:7]) == []


def test_ambiguous_ref_lists_its_candidates(catalog, library):
    with pytest.raises(AmbiguousRefError) as caught:
        catalog.resolve("shared")
    assert len(caught.value.candidates) == 2
    assert "sd15/shared.safetensors" in str(caught.value)
    assert "other/shared.safetensors" in str(caught.value)


def test_unknown_ref_and_wrong_kind_are_not_found(catalog, library):
    with pytest.raises(RefNotFoundError):
        catalog.resolve("no_such_model")
    with pytest.raises(RefNotFoundError, match="lora, not a checkpoint"):
        catalog.resolve("detail", kind="checkpoint")


def test_hard_link_of_one_file_is_not_ambiguous(catalog, library):
    os.link(library / "loras" / "detail.safetensors", library / "detail.safetensors")
    catalog.scan()
    assert catalog.resolve("detail").name == "detail"


def test_find_filters_by_kind_base_tag_and_text(catalog, library):
    catalog.set_tags("juggernaut", add=["Photoreal"])
    assert {a.name for a in catalog.find(kind="lora", base="sd1")} == {"detail_sd15", "shared"}
    assert [a.name for a in catalog.find(tag="photoreal")] == ["juggernaut"]
    assert [a.name for a in catalog.find(text="JUGGER")] == ["juggernaut"]
    assert [a.name for a in catalog.find(text="photo")] == ["juggernaut"]


def test_tags_are_added_and_removed(catalog, library):
    catalog.set_tags("juggernaut", add=["anime", "photoreal"])
    asset = catalog.set_tags("juggernaut", add=["sdxl"], remove=["anime"])
    assert asset.tags == ["photoreal", "sdxl"]


def test_overrides_win_are_marked_and_survive_rescans(catalog, library):
    catalog.set_overrides("detail", {"base": "sd1", "lineage": "pony", "style": "anime"})
    path = library / "loras" / "detail.safetensors"
    os.utime(path, ns=(1, 1))  # force a re-read on the next scan
    assert catalog.scan().changed == [str(path)]

    asset = catalog.resolve("detail")
    assert (asset.base, asset.identity.lineage, asset.identity.style.value) == (
        "sd1",
        "pony",
        "anime",
    )
    assert asset.overrides == {"base": "sd1", "lineage": "pony", "style": "anime"}
    assert {e.about for e in asset.identity.evidence if e.source == "user"} == {
        "base",
        "lineage",
        "style",
    }
    assert [a.name for a in catalog.find(base="sd1", kind="lora")].count("detail") == 1


def test_clearing_an_override_brings_back_the_detected_value(catalog, library):
    catalog.set_overrides("detail", {"base": "sd1"})
    asset = catalog.set_overrides("detail", {"base": ""})
    assert asset.base == "sdxl" and asset.overrides == {}


def test_override_values_are_checked(catalog, library):
    with pytest.raises(PantryError, match="not a known value"):
        catalog.set_overrides("detail", {"base": "sdxxl"})
    with pytest.raises(PantryError, match="cannot set"):
        catalog.set_overrides("detail", {"colour": "red"})


def test_dupes_are_copies_not_hard_links_or_symlinks(catalog, library):
    original = library / "loras" / "sd15" / "detail_sd15.safetensors"
    shutil.copy(original, library / "copy_of_detail.safetensors")
    os.link(original, library / "hardlink.safetensors")
    (library / "symlink.safetensors").symlink_to(original)
    catalog.scan()
    catalog.hash([a for a in catalog.find() if a.kind == "lora"])

    groups, unhashed = catalog.dupes()

    assert unhashed == 1  # the checkpoint
    assert len(groups) == 1
    files = sorted(sorted(a.name for a in links) for links in groups[0].files)
    assert files == [["copy_of_detail"], ["detail_sd15", "hardlink", "symlink"]]
    assert groups[0].wasted == original.stat().st_size


def test_dupes_count_unhashed_files(catalog, library):
    groups, unhashed = catalog.dupes()
    assert groups == [] and unhashed == 5


def test_hash_is_cached_against_size_mtime_and_inode(catalog, library):
    first = catalog.hash(["detail_sd15"])
    second = catalog.hash(["detail_sd15"])
    third = catalog.hash(["detail_sd15"], blake3=True)  # BLAKE3 was not stored yet
    assert (len(first.hashed), len(second.cached), len(third.hashed)) == (1, 1, 1)


def test_verify_reports_files_whose_content_changed(catalog, library):
    other = library / "loras" / "other" / "shared.safetensors"
    catalog.hash(["detail_sd15", str(other)])
    path = library / "loras" / "sd15" / "detail_sd15.safetensors"
    stat = path.stat()
    with path.open("r+b") as f:  # same size and mtime: only the bytes tell
        f.seek(stat.st_size - 10)
        f.write(b"corrupted!")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    report = catalog.verify()

    assert [a.name for a, _ in report.changed] == ["detail_sd15"]
    assert set(report.changed[0][1]) == {"sha256", "addnet"}
    assert [a.path for a in report.ok] == [other]
    assert report.problems


def test_record_render(catalog, library):
    asset = catalog.resolve("juggernaut")
    render_id = catalog.record_render('prompt = "a cat"', 42, [asset], "out.png", 3.5)
    assert catalog.renders()[0] | {"created": None} == {
        "id": render_id,
        "recipe_toml": 'prompt = "a cat"',
        "seed": 42,
        "asset_ids": [asset.id],
        "output_path": "out.png",
        "seconds": 3.5,
        "created": None,
    }


def test_search_finds_titles_and_trigger_words(catalog, models):
    metadata = {"modelspec.title": "Watercolor Dream", "modelspec.trigger_phrase": "wcstyle"}
    write_model(models, "kohya_sd15_lora", filename="wc_v2.safetensors", metadata=metadata)
    catalog.scan([models])
    assert [a.name for a in catalog.find(text="watercolor")] == ["wc_v2"]
    assert [a.name for a in catalog.find(text="WCSTYLE")] == ["wc_v2"]
