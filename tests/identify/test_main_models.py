"""Checkpoints and bare diffusion models, from hand-built headers with the decisive keys."""

from pantry.identify import identify
from tests.identify.builders import (
    clip_l,
    flux_transformer,
    header,
    ldm_unet,
    ldm_vae,
    openclip,
    prefixed,
    sd1_checkpoint,
    sdxl_checkpoint,
)

UNET = "model.diffusion_model."


def test_sd1_checkpoint_is_a_full_checkpoint_with_all_components():
    ident = identify(sd1_checkpoint())
    assert (ident.kind, ident.base, ident.confidence) == ("checkpoint", "sd1", "high")
    assert set(ident.components["present"]) == {"unet", "vae", "text_encoder"}
    assert ident.components["missing"] == []


def test_checkpoint_without_vae_is_still_a_checkpoint_that_lacks_one():
    h = header(prefixed(UNET, ldm_unet(768)), prefixed("cond_stage_model.transformer.", clip_l()))
    ident = identify(h)
    assert ident.kind == "checkpoint"
    assert ident.components["missing"] == ["vae"]


def test_unet_alone_is_a_diffusion_model():
    ident = identify(header(prefixed(UNET, ldm_unet(768))))
    assert ident.kind == "diffusion_model"
    assert ident.base == "sd1"


def test_sdxl_and_refiner_told_apart_by_context_width():
    assert identify(sdxl_checkpoint()).base == "sdxl"
    refiner = header(
        prefixed(UNET, ldm_unet(1280, xl=True)),
        prefixed("first_stage_model.", ldm_vae()),
        prefixed("conditioner.embedders.0.model.", openclip(1280)),
    )
    ident = identify(refiner)
    assert ident.base == "sdxl_refiner"
    assert ident.components["missing"] == []


def test_sdxl_checkpoint_missing_its_second_text_encoder_is_flagged():
    h = header(
        prefixed(UNET, ldm_unet(2048, xl=True)),
        prefixed("first_stage_model.", ldm_vae()),
        prefixed("conditioner.embedders.0.transformer.", clip_l()),
    )
    assert identify(h).components["missing"] == ["text_encoder_2"]


def test_in_channels_give_inpaint_and_pix2pix():
    assert identify(sd1_checkpoint(in_channels=9)).variant == "inpaint"
    assert identify(sd1_checkpoint(in_channels=8)).variant == "pix2pix"
    assert identify(sd1_checkpoint()).variant is None


def test_sd2_edition_unknown_without_step_or_metadata():
    h = header(prefixed(UNET, ldm_unet(1024)), prefixed("cond_stage_model.model.", openclip(1024)))
    ident = identify(h)
    assert ident.base == "sd2"
    assert ident.edition is None
    assert ident.confidence == "medium"
    assert any("768-v" in w for w in ident.warnings)


def test_sd2_edition_from_global_step_of_a_pickle():
    h = header(prefixed(UNET, ldm_unet(1024)), extras={"global_step": 110000}, fmt="pickle")
    ident = identify(h)
    assert ident.edition == "768_v"
    assert "v_prediction" in ident.variants


def test_sd2_edition_from_modelspec_architecture():
    meta = {"modelspec.architecture": "stable-diffusion-v2-768-v"}
    ident = identify(header(prefixed(UNET, ldm_unet(1024)), metadata=meta))
    assert (ident.edition, ident.confidence) == ("768_v", "high")
    assert "v_prediction" in ident.variants


def test_vpred_and_ztsnr_marker_tensors():
    h = sdxl_checkpoint()
    h.tensors.update(header({"v_pred": (), "ztsnr": ()}).tensors)
    ident = identify(h)
    assert ident.base == "sdxl"
    assert {"v_prediction", "ztsnr"} <= set(ident.variants)


def test_playground_markers_mean_edm_on_sdxl():
    h = sdxl_checkpoint()
    h.tensors.update(header({"edm_mean": (1, 4, 1, 1), "edm_std": (1, 4, 1, 1)}).tensors)
    ident = identify(h)
    assert ident.base == "sdxl"
    assert "edm" in ident.variants
    assert ident.lineage == "playground"


def test_flux_dev_schnell_and_fill():
    dev = identify(header(flux_transformer()))
    schnell = identify(header(flux_transformer(guidance=False)))
    fill = identify(header(flux_transformer(img_in=384)))
    assert (dev.base, dev.edition, dev.kind) == ("flux", "dev", "diffusion_model")
    assert schnell.edition == "schnell"
    assert fill.variant == "fill"


def test_flux_depth_and_canny_share_shapes_so_words_decide():
    canny = identify(header(flux_transformer(img_in=128), name="flux1-canny-dev.safetensors"))
    unnamed = identify(header(flux_transformer(img_in=128)))
    assert canny.variant == "canny"
    assert unnamed.variant == "depth"
    assert any("canny" in w for w in unnamed.warnings)


def test_sd3_joint_blocks_and_large_edition():
    base = {
        "joint_blocks.0.context_block.attn.qkv.weight": (4608, 1536),
        "pos_embed": (1, 36864, 1536),
        "x_embedder.proj.weight": (1536, 16, 2, 2),
    }
    medium = identify(header(prefixed(UNET, base)))
    assert (medium.base, medium.edition) == ("sd3", "medium")
    large = dict(base, **{"joint_blocks.37.x_block.mlp.fc1.weight": (9728, 2432)})
    assert identify(header(prefixed(UNET, large))).edition == "3.5_large"


def test_metadata_that_contradicts_structure_is_reported_and_structure_wins():
    meta = {"modelspec.architecture": "stable-diffusion-v1"}
    ident = identify(sdxl_checkpoint(metadata=meta))
    assert ident.base == "sdxl"
    assert ident.confidence == "medium"
    assert any("sd1" in w and "sdxl" in w for w in ident.warnings)


def test_precision_and_params_count_weights_not_integer_buffers():
    h = header({"input_blocks.0.0.weight": (320, 4, 3, 3)}, dtype="BF16")
    h.tensors.update(header({"position_ids": (1, 77)}, dtype="I64").tensors)
    ident = identify(h)
    assert ident.params == 320 * 4 * 3 * 3
    assert ident.precision == "bf16"


def test_mixed_precision_when_no_dtype_dominates():
    h = header({"a.weight": (100,)}, dtype="F16")
    h.tensors.update(header({"b.weight": (100,)}, dtype="F32").tensors)
    assert identify(h).precision == "mixed"
