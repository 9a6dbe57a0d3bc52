"""Embedding look-up against a real catalog: names matched first, only matches built as assets."""

from __future__ import annotations

from pathlib import Path

import pytest

from pantry.catalog import Catalog
from pantry.recipes.model import Recipe
from pantry.recipes.resolve import resolve
from tests.fixtures.modelfiles import write_model

EMBEDDINGS = ("EasyNegative", "bad_prompt_v2", "badhandv4", "ng_deepnegative_v1_75t", "sketchy")


@pytest.fixture
def catalog(tmp_path: Path):
    models = tmp_path / "models"
    models.mkdir()
    for name in EMBEDDINGS:
        write_model(models, "embedding_sd15", filename=f"{name}.safetensors")
    write_model(models, "kohya_sd15_lora", filename="badhandv4_lora.safetensors")
    with Catalog.open(tmp_path / "catalog.db") as cat:
        cat.scan([models])
        yield cat


def test_names_lists_every_asset_of_a_kind_in_find_order(catalog: Catalog) -> None:
    expected = [(a.id, a.name) for a in catalog.find(kind="embedding")]
    assert [tuple(row) for row in catalog.names("embedding")] == expected
    assert sorted(name for _, name in expected) == sorted(EMBEDDINGS)


def test_names_of_a_kind_with_no_assets_is_empty(catalog: Catalog) -> None:
    assert catalog.names("controlnet") == []


def test_embeddings_the_prompts_mention_resolve_to_catalogued_assets(catalog: Catalog) -> None:
    recipe = Recipe(
        checkpoint="anything",
        prompt="a cat, EASYNEGATIVE",
        negative_prompt="(badhandv4:1.2), ng_deepnegative_v1_75tx, lowres",
        lines={"prompt": 3, "negative_prompt": 4},
    )
    found = {
        e.ref: (e.asset.kind, e.asset.path.name, e.line)
        for e in resolve(recipe, catalog).embeddings
    }
    assert found == {
        "EasyNegative": ("embedding", "EasyNegative.safetensors", 3),
        "badhandv4": ("embedding", "badhandv4.safetensors", 4),
    }


def test_mentions_come_in_catalog_name_order_per_prompt(catalog: Catalog) -> None:
    recipe = Recipe(checkpoint="anything", prompt="bad_prompt_v2, EasyNegative")
    assert [e.ref for e in resolve(recipe, catalog).embeddings] == ["EasyNegative", "bad_prompt_v2"]


def test_a_letter_that_only_regex_case_folding_pairs_still_matches(catalog: Catalog) -> None:
    # LATIN SMALL LETTER LONG S matches "s" case-insensitively, yet str.lower() keeps it apart.
    recipe = Recipe(checkpoint="anything", prompt="a \u017fketchy drawing")
    assert [e.ref for e in resolve(recipe, catalog).embeddings] == ["sketchy"]
