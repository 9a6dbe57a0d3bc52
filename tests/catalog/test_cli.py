"""The catalog commands: thin over Catalog, JSON on stdout, one-line errors with exit 2."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from pantry.cli import main
from tests.catalog.helpers import write_unique


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "catalog.db")

    def invoke(*args: str):
        return runner.invoke(main, [*args, "--catalog", db], catch_exceptions=False)

    return invoke


@pytest.fixture
def library(models, run):
    write_unique(models / "loras", "kohya_sd15_lora", "detail.safetensors")
    write_unique(models / "loras", "kohya_sd15_lora", "style.safetensors")
    (models / "loras" / "broken.safetensors").write_bytes(b"\x00" * 4)
    assert run("scan", str(models)).exit_code == 0
    return models


def test_scan_json_reports_counts_and_unreadable_files(run, models):
    write_unique(models / "loras", "kohya_sd15_lora", "detail.safetensors")
    (models / "broken.safetensors").write_bytes(b"\x00" * 4)

    result = run("scan", str(models), "--json")

    doc = json.loads(result.stdout)
    assert doc["counts"] == {
        "new": 1,
        "changed": 0,
        "moved": 0,
        "missing": 0,
        "unreadable": 1,
        "unchanged": 0,
    }
    assert doc["unreadable"][0]["path"] == str(models / "broken.safetensors")
    assert doc["roots"] == [str(models)]


def test_ls_json_lists_assets_with_the_documented_keys(run, library):
    result = run("ls", "--kind", "lora", "--json")
    assets = json.loads(result.stdout)
    assert sorted(a["name"] for a in assets) == ["detail", "style"]
    assert set(assets[0]) == {
        "id", "name", "path", "size", "format", "status", "error", "kind", "base",
        "edition", "variant", "lineage", "precision", "style", "hashes", "autov2",
        "autov3", "tags", "overrides", "provenance",
    }  # fmt: skip


def test_tag_set_and_show_round_trip(run, library):
    assert run("tag", "detail", "+anime", "+photoreal").exit_code == 0
    assert run("tag", "detail", "-photoreal").exit_code == 0
    assert run("set", "detail", "base=sdxl", "lineage=pony").exit_code == 0
    assert run("hash", "detail").exit_code == 0

    shown = json.loads(run("show", "detail", "--json").stdout)

    assert shown["tags"] == ["anime"]
    assert shown["overrides"] == {"base": "sdxl", "lineage": "pony"}
    assert (shown["base"], shown["lineage"]) == ("sdxl", "pony")
    assert shown["autov2"] == shown["hashes"]["sha256"][:10]
    assert shown["autov3"] == shown["hashes"]["addnet"][:12]
    human = run("show", "detail").stdout
    assert "(override)" in human and shown["autov2"] in human


def test_search_finds_names_and_tags(run, library):
    run("tag", "style", "+watercolor")
    found = json.loads(run("search", "WATER", "--json").stdout)
    assert [a["name"] for a in found] == ["style"]


def test_unknown_ref_is_one_line_on_stderr_with_exit_2(run, library):
    result = run("show", "nothing_like_this")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "nothing_like_this" in result.stderr


def test_bad_override_is_a_usage_error(run, library):
    for args in (["set", "detail", "base"], ["set", "detail", "base=sdxxl"]):
        result = run(*args)
        assert result.exit_code == 2 and "Traceback" not in result.output


def test_verify_exits_1_when_a_file_changed(run, library):
    run("hash", "--all")
    assert run("verify").exit_code == 0
    path = library / "loras" / "style.safetensors"
    with path.open("r+b") as f:
        f.seek(-8, os.SEEK_END)
        f.write(b"12345678")

    result = run("verify", "--json")

    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [c["name"] for c in doc["changed"]] == ["style"]


def test_hash_needs_refs_or_all(run, library):
    assert run("hash").exit_code == 2


def test_dupes_and_prune(run, library):
    os.remove(library / "loras" / "style.safetensors")
    run("scan")
    assert [a["name"] for a in json.loads(run("ls", "--missing", "--json").stdout)] == ["style"]
    pruned = json.loads(run("prune", "--json").stdout)
    assert pruned == {"removed": [str(library / "loras" / "style.safetensors")]}
    assert json.loads(run("dupes", "--json").stdout) == {"groups": [], "unhashed": 1}


def test_db_current_and_upgrade(run, tmp_path):
    before = json.loads(run("db", "current", "--json").stdout)
    assert before == {"catalog": str(tmp_path / "catalog.db"), "current": None, "head": "0002"}
    assert "upgraded from (empty) to 0002" in run("db", "upgrade").stdout
    assert "already at revision 0002" in run("db", "upgrade").stdout
    assert json.loads(run("db", "current", "--json").stdout)["current"] == "0002"


def test_scan_with_nothing_remembered_asks_for_a_folder(run):
    result = run("scan")
    assert result.exit_code == 2
    assert "no folders to scan" in result.stderr


def test_catalog_is_the_package_level_api():
    import pantry
    from pantry.catalog import Catalog

    assert pantry.Catalog is Catalog


def test_ls_shows_what_an_undecided_base_is_narrowed_to(run, models):
    write_unique(models / "vae", "sd_vae", "some_vae.safetensors")
    assert run("scan", str(models)).exit_code == 0

    listing = run("ls", "--kind", "vae").stdout

    assert "sd1|sdxl" in listing or "sdxl|sd1" in listing
