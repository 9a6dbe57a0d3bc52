"""Resolution of a recipe's REFs against a catalog (a small in-memory one)."""

from __future__ import annotations

import pytest

from pantry.recipes.infotext import hashes_from_resolved, parse_infotext, write_infotext
from pantry.recipes.model import LoraSpec, Recipe
from pantry.recipes.resolve import parse_name_hashes, resolve
from tests.recipes.fakes import FakeCatalog, make_asset

DREAMSHAPER_SHA = "879db523c30d3b9017143d56705015e15a2cb5628762c11d086fed9538abd7fd"
VAE_SHA = "c6a580b13a5bc05a5e16e4dbb80608ff2ec251a162311590c1f34c013d7f3dab"
LORA_ADDNET = "3e0e1a2b4c5d" + "7" * 52
LORA_SHA = "aa" * 32
EMBED_SHA = "c74b4e810b03" + "0" * 52


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog(
        [
            make_asset(1, "dreamshaper_8", "checkpoint", sha256=DREAMSHAPER_SHA, legacy="879db523"),
            make_asset(2, "vae-ft-mse-840000-ema-pruned", "vae", sha256=VAE_SHA),
            make_asset(
                3,
                "animeLineart_v3_final",
                "lora",
                sha256=LORA_SHA,
                addnet=LORA_ADDNET,
                metadata={"ss_output_name": "animeLineart_v3"},
            ),
            make_asset(4, "add_detail", "lora"),
            make_asset(5, "EasyNegative", "embedding", sha256=EMBED_SHA),
            make_asset(6, "portrait", "checkpoint", folder="/models/a"),
            make_asset(7, "portrait", "checkpoint", folder="/models/b"),
            make_asset(8, "detail_slider", "lora", metadata={"ss_output_name": "twin"}),
            make_asset(9, "detail_slider_v2", "lora", metadata={"ss_output_name": "twin"}),
            make_asset(
                10,
                "sdxl_vae",
                "vae",
                provenance={
                    "source": "huggingface",
                    "repo": "stabilityai/sdxl-vae",
                    "filename": "sdxl_vae.safetensors",
                    "revision": "main",
                },
            ),
            make_asset(11, "bad_prompt_v2", "embedding"),
        ]
    )


def test_names_resolve_to_assets(catalog):
    recipe = Recipe(
        checkpoint="dreamshaper_8",
        vae="vae-ft-mse-840000-ema-pruned",
        prompt="a cat <lora:add_detail:0.5>",
        loras=[LoraSpec("animeLineart_v3_final", 0.7)],
    )
    resolved = resolve(recipe, catalog)
    assert resolved.checkpoint.asset.id == 1
    assert resolved.vae.asset.id == 2
    assert [(r.ref, r.asset.id, r.lora.from_prompt) for r in resolved.loras] == [
        ("animeLineart_v3_final", 3, False),
        ("add_detail", 4, True),
    ]
    assert all(r.problem is None for r in resolved.all())


def test_missing_asset_is_a_not_found_problem_with_the_recipe_line(catalog):
    recipe = Recipe(checkpoint="nope", lines={"checkpoint": 3})
    result = resolve(recipe, catalog).checkpoint
    assert (result.problem, result.asset, result.line) == ("not_found", None, 3)


def test_ambiguous_names_list_their_candidates(catalog):
    result = resolve(Recipe(checkpoint="portrait"), catalog).checkpoint
    assert result.problem == "ambiguous"
    assert sorted(a.id for a in result.candidates) == [6, 7]


def test_an_asset_of_another_kind_still_resolves_for_lint_to_judge(catalog):
    result = resolve(Recipe(checkpoint="add_detail"), catalog).checkpoint
    assert result.asset.id == 4 and result.problem is None


def test_prompt_lora_names_match_the_ss_output_name_alias(catalog):
    recipe = Recipe(checkpoint="dreamshaper_8", prompt="<lora:animeLineart_v3:0.7>")
    (lora,) = resolve(recipe, catalog).loras
    assert lora.asset.id == 3
    assert "alias" in lora.detail


def test_an_alias_shared_by_two_loras_is_ambiguous(catalog):
    (lora,) = resolve(Recipe(checkpoint="dreamshaper_8", prompt="<lora:twin:1>"), catalog).loras
    assert lora.problem == "ambiguous"
    assert sorted(a.id for a in lora.candidates) == [8, 9]


def test_infotext_hashes_find_renamed_files(catalog):
    recipe = Recipe(
        checkpoint="dreamshaper_8_renamed_by_someone",
        vae="some_vae",
        prompt="<lora:lineart:0.7>",
        extra={
            "Model hash": "879db523c3",
            "VAE hash": "c6a580b13a",
            "Lora hashes": "lineart: 3e0e1a2b4c5d",
        },
    )
    resolved = resolve(recipe, catalog)
    assert resolved.checkpoint.asset.id == 1
    assert "hash" in resolved.checkpoint.detail
    assert resolved.vae.asset.id == 2
    assert resolved.loras[0].asset.id == 3


def test_legacy_8_hex_model_hash_matches_the_a1111_legacy_hash(catalog):
    recipe = Recipe(checkpoint="old_name", extra={"Model hash": "879db523"})
    assert resolve(recipe, catalog).checkpoint.asset.id == 1


def test_forge_lora_hash_is_the_full_file_sha256(catalog):
    recipe = Recipe(checkpoint="m", prompt="<lora:x:1>", extra={"Lora hashes": "x: aaaaaaaaaaaa"})
    assert resolve(recipe, catalog).loras[0].asset.id == 3


def test_a_hash_that_matches_nothing_keeps_the_problem(catalog):
    recipe = Recipe(checkpoint="gone", extra={"Model hash": "ffffffffff"})
    result = resolve(recipe, catalog).checkpoint
    assert result.problem == "not_found"
    assert "ffffffffff" in result.detail


def test_hf_refs_resolve_by_provenance_or_are_not_pulled(catalog, tmp_path):
    pulled_file = tmp_path / "sdxl_vae.safetensors"
    pulled_file.write_bytes(b"x")  # pulled assets count only while their file is on disk
    catalog.assets[9].path = pulled_file
    pulled = resolve(
        Recipe(checkpoint="dreamshaper_8", vae="hf://stabilityai/sdxl-vae/sdxl_vae.safetensors"),
        catalog,
    ).vae
    assert pulled.asset.id == 10
    missing = resolve(
        Recipe(
            checkpoint="hf://stabilityai/stable-diffusion-xl-base-1.0/sd_xl_base_1.0.safetensors"
        ),
        catalog,
    ).checkpoint
    assert missing.problem == "not_pulled"
    assert "pantry pull" in missing.detail


def test_embeddings_named_in_prompts_are_found_ignoring_case(catalog):
    recipe = Recipe(
        checkpoint="dreamshaper_8",
        prompt="a cat",
        negative_prompt="(easynegative:1.2), bad_prompt_v2, lowres",
        lines={"negative_prompt": 7},
    )
    embeddings = resolve(recipe, catalog).embeddings
    assert sorted((e.ref, e.asset.id, e.line) for e in embeddings) == [
        ("EasyNegative", 5, 7),
        ("bad_prompt_v2", 11, 7),
    ]


def test_comfy_embedding_syntax_that_matches_nothing_is_a_problem(catalog):
    recipe = Recipe(checkpoint="dreamshaper_8", negative_prompt="embedding:missing_neg, blurry")
    (embedding,) = resolve(recipe, catalog).embeddings
    assert (embedding.ref, embedding.problem) == ("missing_neg", "not_found")


def test_ti_hashes_names_are_embeddings_found_by_hash(catalog):
    recipe = Recipe(
        checkpoint="dreamshaper_8",
        negative_prompt="easyneg",
        extra={"TI hashes": "easyneg: c74b4e810b03"},
    )
    (embedding,) = resolve(recipe, catalog).embeddings
    assert embedding.asset.id == 5


def test_parse_name_hashes():
    assert parse_name_hashes("a: 0123456789AB, b c: ffffffffffff") == {
        "a": "0123456789ab",
        "b c": "ffffffffffff",
    }
    assert parse_name_hashes("") == {}


# --- infotext against the catalog --------------------------------------------------------

INFOTEXT = """\
a lighthouse at dusk, <lora:lineart:0.8>, <lora:unknown_style:0.5>
Negative prompt: EasyNegative
Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, Size: 512x768, \
Model hash: 879db523c3, Model: dreamshaper_8_pruned, VAE hash: 0000000000, VAE: mystery.pt, \
Lora hashes: "lineart: 3e0e1a2b4c5d, unknown_style: 123412341234", \
TI hashes: "EasyNegative: c74b4e810b03\""""


def test_infotext_resources_resolve_and_the_rest_is_reported(catalog):
    parsed = parse_infotext(INFOTEXT, catalog=catalog)
    assert parsed.recipe.checkpoint == "dreamshaper_8"  # found by hash, named as catalogued
    assert parsed.recipe.vae == "mystery"  # not found: keeps the infotext's name
    unmatched = {(u.slot, u.name) for u in parsed.report.unmatched}
    assert unmatched == {("vae", "mystery"), ("lora", "unknown_style")}
    vae = next(u for u in parsed.report.unmatched if u.slot == "vae")
    assert vae.hash == "0000000000"
    assert parsed.report.checked


def test_hashes_from_resolved_assets_round_trip_through_infotext(catalog):
    recipe = Recipe(
        checkpoint="dreamshaper_8",
        vae="vae-ft-mse-840000-ema-pruned",
        prompt="a cat <lora:animeLineart_v3:0.7>",
        negative_prompt="EasyNegative",
    )
    hashes = hashes_from_resolved(resolve(recipe, catalog))
    assert hashes.model == DREAMSHAPER_SHA[:10]
    assert hashes.vae == VAE_SHA[:10]
    assert hashes.loras == {"animeLineart_v3": LORA_ADDNET[:12]}
    assert hashes.embeddings == {"EasyNegative": EMBED_SHA[:12]}
    parsed = parse_infotext(write_infotext(recipe, hashes), catalog=catalog)
    assert parsed.report.unmatched == []
    assert parsed.recipe.checkpoint == "dreamshaper_8"
