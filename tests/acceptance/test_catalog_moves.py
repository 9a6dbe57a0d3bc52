"""Moves and renames in a folder that also holds links to the moved file."""

from __future__ import annotations

import json
import os

from tests.acceptance.realfiles import kohya_sd1_lora
from tests.cli.support import pantry


def _scan(catalog, *roots):
    result = pantry("scan", *roots, "--catalog", catalog, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_moved_file_keeps_its_tags_when_a_symlink_to_it_breaks(tmp_path):
    catalog = tmp_path / "catalog.db"
    models = tmp_path / "models"
    real = kohya_sd1_lora(models / "Lora" / "lineart.safetensors")
    (models / "embeddings").mkdir()
    link = models / "embeddings" / "lineart_link.safetensors"
    link.symlink_to(real)
    _scan(catalog, models)
    assert pantry("tag", "lineart", "+anime", "--catalog", catalog).exit_code == 0

    moved = real.with_name("lineart_v2.safetensors")
    os.rename(real, moved)  # the symlink now dangles
    report = _scan(catalog, models)

    assert report["moved"] == [{"from": str(real), "to": str(moved)}]
    assert report["missing"] == [str(link)]
    shown = json.loads(pantry("show", "lineart_v2", "--catalog", catalog, "--json").stdout)
    assert shown["tags"] == ["anime"]
