"""False positives and false negatives a demanding user would hit, one behaviour each."""

from __future__ import annotations

from pantry.lint import LintConfig, lint
from tests.fixtures.modelfiles import write_model
from tests.lint import builders as b

XL = {"width": 1024, "height": 1024}


def run(resolved, *codes, **context):
    config = LintConfig(select=list(codes)) if codes else LintConfig()
    return lint(resolved, config, b.quiet_context(**context))


def codes(resolved, **context) -> set[str]:
    return {f.code for f in run(resolved, **context)}


# --- trigger words --------------------------------------------------------------------------


def test_guessed_trigger_words_are_an_info_suggestion_not_a_warning():
    resolved = b.recipe_with(b.realistic_vision(), loras=[b.add_detail()], prompt="a portrait")
    assert run(resolved, "PP502") == []
    [finding] = run(resolved, "PP505")
    assert finding.severity == "info"
    assert "LoRA 'add_detail'" in finding.message and "'detailed'" in finding.message
    assert "a guess" in finding.message and "training captions" in finding.message


def test_trigger_phrase_declared_by_the_file_is_a_warning():
    resolved = b.recipe_with(
        b.realistic_vision(), loras=[b.lineart_declared()], prompt="a portrait"
    )
    [finding] = run(resolved, "PP502", "PP505")
    assert finding.code == "PP502" and finding.severity == "warning"
    assert "declares ('lineart', 'sketch')" in finding.message


def test_trigger_words_match_booru_spelling_and_whole_words_only():
    lora = b.asset("hair", "lora", evidence=[b.Evidence("trigger_words", "x", "metadata")])
    lora.identity.metadata["trigger_words"] = ["long_hair"]
    spaced = b.recipe_with(b.realistic_vision(), loras=[lora], prompt="(long hair:1.1), 1girl")
    assert run(spaced, "PP502") == []
    glued = b.recipe_with(b.realistic_vision(), loras=[lora], prompt="oblong hairpin")
    assert [f.code for f in run(glued, "PP502")] == ["PP502"]


def test_a_lora_named_twice_gets_one_trigger_finding():
    lora = b.lineart_declared()
    resolved = b.recipe_with(
        b.anime_dream(),
        loras=[b.found("lora", lora, weight=0.5), b.found("lora", lora, weight=0.3)],
        clip_skip=2,
    )
    assert len(run(resolved, "PP502")) == 1


def test_trigger_phrase_in_a_real_header_reaches_lint_through_identify(tmp_path):
    from pantry.formats import read_header
    from pantry.identify import identify

    meta = {"modelspec.trigger_phrase": "ohwx woman, red coat", "ss_base_model_version": "sd_v1"}
    path = write_model(tmp_path, "kohya_sd15_lora", metadata=meta)
    lora = b.asset("ohwx", "lora", "sd1")
    lora.identity = identify(read_header(path))
    resolved = b.recipe_with(b.realistic_vision(), loras=[lora], prompt="a portrait")
    [finding] = run(resolved, "PP502", "PP505")
    assert finding.code == "PP502"
    assert "'ohwx woman'" in finding.message


# --- VAE precision --------------------------------------------------------------------------


def test_undecided_4_channel_vae_on_sdxl_in_fp16_warns():
    resolved = b.recipe_with(b.sdxl_base(), vae=b.sdxl_vae_undecided("kl-f8-xl"), **XL)
    [finding] = run(resolved, "PI605")
    assert "VAE 'kl-f8-xl'" in finding.message and "checkpoint 'sdxl_base_1.0'" in finding.message
    assert "not known to be the fp16-fix" in finding.message
    assert run(resolved, "PI605", dtype="bf16") == run(resolved, "PI605", dtype="fp32") == []


def test_undecided_vae_on_sd1_is_no_overflow_concern():
    resolved = b.recipe_with(b.realistic_vision(), vae=b.sdxl_vae_undecided("kl-f8-anime2"))
    assert run(resolved, "PI605", "PI606", "PI607") == []


def test_known_sd1_vae_on_sdxl_is_a_mismatch_not_an_overflow():
    mse = b.vae_mse()
    mse.identity.vae.base_candidates = ["sd1", "sdxl"]  # shapes allow both; the hash decided
    resolved = b.recipe_with(b.sdxl_base(), vae=mse, **XL)
    assert codes(resolved) & {"PC202", "PI605"} == {"PC202"}


def test_fp16_fix_from_the_name_only_is_said_so():
    vae = b.sdxl_vae_undecided("sdxl-vae-fp16-fix", fp16_fix=True)
    found = run(b.recipe_with(b.sdxl_base(), vae=vae, **XL))
    assert [f.code for f in found] == ["PI606"]
    assert "from its file name only" in found[0].message


# --- VAE base ---------------------------------------------------------------------------------


def test_sd1_or_sdxl_vae_fits_sd1_sd2_and_sdxl():
    for checkpoint in (b.realistic_vision(), b.asset("sd21", base="sd2"), b.sdxl_base()):
        resolved = b.recipe_with(checkpoint, vae=b.vae_sd1_or_sdxl())
        assert run(resolved, "PC202", "PC207", "PC208") == []


def test_sd3_or_flux_vae_on_flux_warns_naming_both():
    resolved = b.recipe_with(b.flux_dev(), vae=b.vae_flux_or_sd3(), cfg_scale=1.0, **XL)
    [finding] = run(resolved, "PC202", "PC207", "PC208")
    assert finding.code == "PC208" and finding.severity == "warning"
    assert "VAE 'ae_renamed'" in finding.message and "flux or sd3" in finding.message
    assert "checkpoint 'flux1-dev'" in finding.message


def test_flux_vae_on_sd3_is_a_mismatch():
    resolved = b.recipe_with(b.sd3_medium(), vae=b.flux_ae(), cfg_scale=5.0, **XL)
    assert [f.code for f in run(resolved, "PC202", "PC207", "PC208")] == ["PC202"]


def test_16_channel_vae_on_sd1_is_only_the_channel_error():
    resolved = b.recipe_with(b.realistic_vision(), vae=b.vae_flux_or_sd3())
    assert [f.code for f in run(resolved, "PC202", "PC207", "PC208")] == ["PC207"]


# --- base unknown -----------------------------------------------------------------------------


def test_unsafe_pickle_of_unknown_base_is_reported_once():
    old = b.old_model()
    old.identity.kind, old.identity.base = "unknown", "unknown"
    assert codes(b.recipe_with(old)) == {"PI601"}


def test_unknown_lora_names_the_checkpoint_it_cannot_be_checked_against():
    resolved = b.recipe_with(b.realistic_vision(), loras=[b.asset("mystery", "lora", "unknown")])
    [finding] = run(resolved, "PC208")
    assert "LoRA 'mystery'" in finding.message
    assert "checkpoint 'realisticVisionV60'" in finding.message


def test_unknown_lora_whose_modules_were_compared_is_not_unknown():
    resolved = b.recipe_with(b.realistic_vision(), loras=[b.asset("mystery", "lora", "unknown")])
    assert run(resolved, "PC208", lora_coverage=lambda lora, ckpt: 1.0) == []
    [low] = run(resolved, "PC208", "PC205", lora_coverage=lambda lora, ckpt: 0.2)
    assert low.code == "PC205"


def test_wrong_kind_in_a_slot_is_not_also_base_unknown():
    resolved = b.recipe_with(b.realistic_vision(), loras=[b.asset("x", "embedding", "unknown")])
    assert codes(resolved) & {"PA103", "PC208"} == {"PA103"}


# --- clip skip ----------------------------------------------------------------------------


def test_clip_skip_on_flux_means_nothing():
    resolved = b.recipe_with(b.flux_dev(), clip_skip=2, cfg_scale=1.0, **XL)
    [finding] = run(resolved, "PT402")
    assert "means nothing" in finding.message and "flux1-dev" in finding.message


def test_clip_skip_on_sd2_is_ignored_by_a1111():
    [finding] = run(b.recipe_with(b.asset("sd21", base="sd2"), clip_skip=2), "PT402")
    assert "A1111 ignores" in finding.message


def test_clip_skip_past_clip_l_on_sdxl_is_out_of_range():
    assert [f.code for f in run(b.recipe_with(b.sdxl_base(), clip_skip=12, **XL), "PT401")] == [
        "PT401"
    ]


# --- size ---------------------------------------------------------------------------------


def test_portrait_and_bucket_sizes_are_fine():
    assert run(b.recipe_with(b.realistic_vision(), width=512, height=768), "PT405") == []
    assert run(b.recipe_with(b.sdxl_base(), width=832, height=1216), "PT405") == []
    assert run(b.recipe_with(b.flux_dev(), width=512, height=512, cfg_scale=1.0), "PT405") == []


def test_sd1_at_1024_squared_duplicates_subjects():
    resolved = b.recipe_with(b.realistic_vision(), width=1024, height=1024)
    [finding] = run(resolved, "PT405")
    assert "4x the pixels of 512x512" in finding.message and "(sd1)" in finding.message


# --- few-step models ------------------------------------------------------------------------


def test_lcm_lora_at_4_steps_and_cfg_1_5_is_fine():
    resolved = b.recipe_with(
        b.realistic_vision(), loras=[b.lcm_lora()], steps=4, cfg_scale=1.5, sampler="LCM"
    )
    assert run(resolved, "PT406", "PT407") == []


def test_lightning_lora_at_30_steps_names_the_lora():
    resolved = b.recipe_with(
        b.sdxl_base(), loras=[b.lightning_lora_xl()], steps=30, cfg_scale=1.0, **XL
    )
    [finding] = run(resolved, "PT406")
    assert "sdxl_lightning_4step_lora" in finding.message and "'lightning'" in finding.message


def test_hyper_realism_is_not_hyper_sd():
    resolved = b.recipe_with(b.asset("hyperRealism_v3"), steps=30, cfg_scale=6.0)
    assert run(resolved, "PT406", "PT407") == []


def test_hyper_sd_lora_is_few_step():
    hyper = b.asset("Hyper-SDXL-8steps-lora", "lora", "sdxl")
    resolved = b.recipe_with(b.sdxl_base(), loras=[hyper], steps=8, cfg_scale=1.0, **XL)
    assert run(resolved, "PT406", "PT407") == []


def test_flux_schnell_wants_1_to_4_steps():
    resolved = b.recipe_with(b.flux_schnell(), steps=8, cfg_scale=1.0, **XL)
    [finding] = run(resolved, "PT406")
    assert "outside 1-4" in finding.message


def test_flux_dev_cfg_3_5_points_at_distilled_cfg():
    resolved = b.recipe_with(b.flux_dev(), steps=28, cfg_scale=3.5, **XL)
    [finding] = run(resolved, "PT407")
    assert "Distilled CFG" in finding.message and "flux1-dev" in finding.message


# --- style --------------------------------------------------------------------------------


def test_two_file_names_that_disagree_are_not_a_style_finding():
    anime = b.asset("animeLines", "lora", style=b.StyleHint("anime", "name", "anime"))
    assert run(b.recipe_with(b.realistic_vision(), loras=[anime]), "PS301") == []


def test_lineage_alone_is_not_a_style_finding():
    pony = b.pony()
    pony.identity.style = b.StyleHint("anime", "lineage", "pony lineage")
    photo = b.asset("photo_xl", "lora", "sdxl", style=b.StyleHint("photoreal", "metadata", "x"))
    assert run(b.recipe_with(pony, loras=[photo], **XL), "PS301") == []


def test_style_claims_name_their_source_once():
    [finding] = run(b.recipe_with(b.realistic_vision(), loras=[b.anime_lineart()]), "PS301")
    assert "anime (by its training tags: 1girl (312)" in finding.message
    assert "photoreal (by its file name: realistic)" in finding.message


def test_every_rule_explains_itself_with_an_example():
    from pantry.lint import all_rules

    missing = [r.code for r in all_rules() if "Example" not in r.explanation]
    assert missing == []
