"""What the findings say: the assets they name, the line they point at, the edge cases."""

from __future__ import annotations

from pathlib import Path

from pantry.lint import LintConfig, lint
from tests.lint import builders as b


def run(resolved, *codes, **context):
    config = LintConfig(select=list(codes)) if codes else LintConfig()
    return lint(resolved, config, b.quiet_context(**context))


def test_lora_mismatch_names_both_assets_and_points_at_the_lora_line():
    resolved = b.recipe_with(b.sdxl_base(), loras=[b.add_detail()], width=1024, height=1024)
    [finding] = run(resolved, "PC201")
    assert "LoRA 'add_detail'" in finding.message and "sd1" in finding.message
    assert "checkpoint 'sdxl_base_1.0'" in finding.message and "sdxl" in finding.message
    assert finding.line == 20  # the [[loras]] entry, not the checkpoint line
    assert [(a.slot, a.ref) for a in finding.assets] == [
        ("lora", "add_detail"),
        ("checkpoint", "sdxl_base_1.0"),
    ]
    assert finding.assets[0].path == "/models/add_detail.safetensors"
    assert finding.file == Path("recipes/test.toml")


def test_settings_findings_point_at_their_key():
    [finding] = run(b.recipe_with(b.realistic_vision(), cfg_scale=30.0), "PT407")
    assert finding.line == b.LINES["cfg_scale"]


def test_sdxl_family_lora_fits_a_pony_checkpoint():
    resolved = b.recipe_with(b.pony(), loras=[b.detail_tweaker_xl()], width=1024, height=1024)
    assert run(resolved, "PC201") == []


def test_sdxl_lora_does_not_fit_the_refiner():
    resolved = b.recipe_with(b.refiner(), loras=[b.detail_tweaker_xl()])
    assert [f.code for f in run(resolved, "PC201")] == ["PC201"]


def test_vae_undecided_between_sd1_and_sdxl_fits_both():
    for checkpoint in (b.realistic_vision(), b.sdxl_base()):
        assert run(b.recipe_with(checkpoint, vae=b.vae_sd1_or_sdxl()), "PC202", "PC208") == []


def test_sd1_vae_fits_sd2():
    assert run(b.recipe_with(b.asset("sd21", base="sd2"), vae=b.vae_mse()), "PC202") == []


def test_wrong_latent_channels_reported_once_as_pc207():
    codes = [f.code for f in run(b.recipe_with(b.realistic_vision(), vae=b.flux_ae()))]
    assert "PC207" in codes and "PC202" not in codes


def test_prompt_tag_naming_nothing_is_pp503_not_pa101():
    resolved = b.recipe_with(
        b.realistic_vision(), loras=[b.missing("lora", "add_detial", from_prompt=True)]
    )
    codes = [f.code for f in run(resolved)]
    assert "PP503" in codes and "PA101" not in codes


def test_embedding_naming_nothing_is_pp503():
    resolved = b.recipe_with(b.realistic_vision(), embeddings=[b.missing("embedding", "badneg")])
    assert [f.code for f in run(resolved, "PA", "PP503")] == ["PP503"]


def test_ambiguous_ref_lists_candidate_paths():
    one, two = b.add_detail(), b.asset("add_detail", "lora", suffix=".pt")
    res = b.Resolution(slot="lora", ref="add_detail", problem="ambiguous", candidates=[one, two])
    [finding] = run(b.recipe_with(b.realistic_vision(), loras=[res]), "PA102")
    assert "/models/add_detail.safetensors" in finding.message
    assert "/models/add_detail.pt" in finding.message


def test_style_mismatch_says_where_each_claim_came_from():
    resolved = b.recipe_with(b.realistic_vision(), loras=[b.anime_lineart()])
    [finding] = run(resolved, "PS301")
    assert "anime (by its training tags" in finding.message
    assert "photoreal (by its file name" in finding.message


def test_style_unknown_on_either_side_is_not_a_mismatch():
    resolved = b.recipe_with(b.sdxl_base(), loras=[b.anime_lineart()])
    assert run(resolved, "PS301") == []


def test_sdxl_vae_overflow_is_only_a_concern_in_fp16():
    resolved = b.recipe_with(b.sdxl_base(), vae=b.sdxl_vae(), width=1024, height=1024)
    assert run(resolved, "PI605", dtype="fp32") == []
    assert run(resolved, "PI605", dtype="bf16") == []
    [finding] = run(resolved, "PI605", dtype="fp16")
    assert "VAE 'sdxl_vae' is the original SDXL VAE" in finding.message


def test_sdxl_checkpoint_own_vae_is_a_note_not_a_warning():
    resolved = b.recipe_with(b.sdxl_base(), width=1024, height=1024)
    assert run(resolved, "PI605") == []
    [finding] = run(resolved, "PI607")
    assert finding.severity == "info"
    assert "built-in VAE" in finding.message and "sdxl_base_1.0" in finding.message


def test_lora_trained_at_clip_skip_2_is_a_note_on_the_lora_line():
    resolved = b.recipe_with(b.realistic_vision(), loras=[b.anime_lineart()], clip_skip=1)
    assert run(resolved, "PT403") == []
    [finding] = run(resolved, "PT412")
    assert finding.severity == "info" and finding.line == 20
    assert "animeLineart_sd15" in finding.message and "clip skip 2" in finding.message


def test_pony_lineage_does_not_ask_for_clip_skip_2():
    # On SDXL every tool already uses the penultimate layer: "clip skip 2" is the default.
    assert run(b.recipe_with(b.pony(), width=1024, height=1024), "PT403") == []


def test_novelai_lineage_asks_for_clip_skip_2():
    nai = b.asset("nai_merge", lineage="novelai")
    [finding] = run(b.recipe_with(nai), "PT403")
    assert "novelai-lineage" in finding.message and "nai_merge" in finding.message


def test_clip_skip_zero_is_out_of_range_even_for_unknown_bases():
    resolved = b.recipe_with(b.asset("mystery", base="unknown"), clip_skip=0)
    assert [f.code for f in run(resolved, "PT401")] == ["PT401"]


def test_clip_skip_up_to_23_is_fine_on_sd2():
    sd21 = b.asset("sd21", base="sd2")
    assert run(b.recipe_with(sd21, clip_skip=23), "PT401") == []
    [finding] = run(b.recipe_with(sd21, clip_skip=24), "PT401")
    assert "23 layers" in finding.message and "sd21" in finding.message


def test_flux_schnell_with_classic_cfg_is_flagged():
    resolved = b.recipe_with(b.flux_schnell(), cfg_scale=7.0, steps=4, width=1024, height=1024)
    [finding] = run(resolved, "PT407")
    assert "guidance-distilled" in finding.message


def test_flux_sizes_off_16_are_rounded_not_refused():
    resolved = b.recipe_with(b.flux_dev(), width=1032, height=1024, cfg_scale=1.0)
    assert run(resolved, "PT404") == []
    [finding] = run(resolved, "PT413")
    assert "multiple of 16" in finding.message and "renders at 1024" in finding.message


def test_sd3_refuses_sizes_off_16():
    resolved = b.recipe_with(b.sd3_medium(), width=1032, height=1024, cfg_scale=5.0)
    [finding] = run(resolved, "PT404")
    assert "multiple of 16" in finding.message and "sd3_medium" in finding.message


def test_sd2_768_v_native_size():
    sd2v = b.asset("sd21-768", base="sd2", edition="768_v")
    assert run(b.recipe_with(sd2v, width=768, height=768), "PT405") == []
    assert [f.code for f in run(b.recipe_with(sd2v, width=256, height=256), "PT405")] == ["PT405"]


def test_unknown_sampler_suggests_the_closest_name():
    [finding] = run(b.recipe_with(b.realistic_vision(), sampler="Euler A2"), "PT408")
    assert "did you mean 'Euler a'" in finding.message


def test_comfyui_sampler_names_are_accepted():
    assert run(b.recipe_with(b.realistic_vision(), sampler="dpmpp_2m"), "PT408") == []


def test_scheduler_labels_are_accepted():
    assert run(b.recipe_with(b.realistic_vision(), scheduler="SGM Uniform"), "PT409") == []


def test_duplicate_lora_names_both_weights():
    lora = b.add_detail()
    resolved = b.recipe_with(
        b.realistic_vision(),
        loras=[b.found("lora", lora, weight=0.5), b.found("lora", lora, weight=0.8)],
    )
    [finding] = run(resolved, "PT411")
    assert "0.5 + 0.8" in finding.message and len(finding.assets) == 2


def test_prompt_chunks_ignore_lora_tags_and_check_the_negative_prompt():
    words = " ".join(f"w{i}" for i in range(70))
    resolved = b.recipe_with(
        b.realistic_vision(),
        prompt=words + " <lora:a:1> <lora:b:1> <lora:c:1> <lora:d:1> <lora:e:1> <lora:f:1>",
        negative_prompt=" ".join(f"n{i}" for i in range(151)),
    )
    [finding] = run(resolved, "PP501", count_tokens=lambda text: len(text.split()))
    assert finding.line == b.LINES["negative_prompt"]
    assert "151 CLIP tokens" in finding.message and "3 chunks" in finding.message


def test_trigger_word_match_ignores_case():
    resolved = b.recipe_with(b.anime_dream(), loras=[b.lineart_declared()], prompt="LineArt, cat")
    assert run(resolved, "PP502") == []


def test_unknown_base_warns_instead_of_staying_silent():
    resolved = b.recipe_with(b.asset("mystery", base="unknown", reason="no decisive keys"))
    [finding] = run(resolved)
    assert finding.code == "PC208" and finding.severity == "warning"
    assert "no decisive keys" in finding.message


def test_coverage_is_not_reported_on_top_of_a_base_mismatch():
    resolved = b.recipe_with(b.sdxl_base(), loras=[b.add_detail()])
    assert run(resolved, "PC205", "PC206", lora_coverage=lambda lora, ckpt: 0.0) == []


def test_findings_sorted_by_line():
    resolved = b.recipe_with(b.realistic_vision(), width=500, cfg_scale=40.0, clip_skip=0)
    lines = [f.line for f in run(resolved)]
    assert lines == sorted(lines) and len(lines) == 3
