"""VAEs, text encoders and textual-inversion embeddings."""

from pantry.identify import identify
from tests.identify.builders import clip_l, header, ldm_vae, openclip, prefixed

SD_VAE_SHA = "735e4c3a447a3255760d7f86845f09f937809baa529c17370d83e4c3758f3c75"
FP16_FIX_SHA = "235745af8d86bf4a4c1b5b4f529868b37019a10f7c0b2e79ad0abca3a22bc6e1"


def test_four_channel_vae_is_never_confidently_assigned_from_shapes():
    ident = identify(header(ldm_vae(), name="vae.safetensors"))
    assert ident.kind == "vae"
    assert ident.base == "unknown"
    assert ident.base_candidates == ["sd1", "sdxl"]
    assert "SD2" in ident.reason
    assert ident.vae.latent_channels == 4


def test_name_hint_for_a_vae_orders_candidates_but_decides_nothing():
    ident = identify(header(ldm_vae(), name="sdxl_vae.safetensors"))
    assert ident.base == "unknown"
    assert ident.base_candidates == ["sdxl", "sd1"]
    assert any(e.source == "name" and "xl" in e.fact for e in ident.evidence)


def test_known_hash_decides_a_vae_even_against_its_name():
    ident = identify(header(ldm_vae(), name="sdxl_vae.safetensors"), {"sha256": SD_VAE_SHA.upper()})
    assert (ident.base, ident.confidence) == ("sd1", "high")
    assert ident.vae.known_as.startswith("vae-ft-mse-840000")


def test_fp16_fix_vae_recognised_by_hash():
    ident = identify(header(ldm_vae()), {"sha256": FP16_FIX_SHA})
    assert ident.base == "sdxl"
    assert ident.vae.fp16_fix is True


def test_sixteen_channel_vae_is_sd3_or_flux():
    ident = identify(header(ldm_vae(16, quant=False)))
    assert ident.base == "unknown"
    assert ident.base_candidates == ["sd3", "flux"]


def test_vae_metadata_decides_with_medium_confidence():
    meta = {"modelspec.architecture": "stable-diffusion-xl-v1-base/vae"}
    ident = identify(header(ldm_vae(), metadata=meta))
    assert (ident.base, ident.confidence) == ("sdxl", "medium")


def test_vae_under_first_stage_prefix_alone_is_a_vae():
    assert identify(header(prefixed("first_stage_model.", ldm_vae()))).kind == "vae"


def test_openclip_h_text_encoder_means_sd2_but_clip_l_is_shared():
    assert identify(header(openclip(1024))).base == "sd2"
    shared = identify(header(clip_l()))
    assert shared.kind == "text_encoder"
    assert shared.base == "unknown"
    assert "sd1" in shared.base_candidates and "flux" in shared.base_candidates


def test_kohya_embedding_width_gives_the_base_and_vectors():
    ident = identify(header({"emb_params": (4, 1024)}))
    assert (ident.kind, ident.base) == ("embedding", "sd2")
    assert ident.metadata["vectors"] == 4


def test_a1111_pickle_embedding_with_string_to_param_name():
    h = header(
        {"string_to_param.*": (2, 768)},
        fmt="pickle",
        extras={"name": "badhands", "step": 1500, "sd_checkpoint_name": "v1-5-pruned"},
    )
    ident = identify(h)
    assert (ident.kind, ident.base) == ("embedding", "sd1")
    assert ident.metadata["training_base"] == "v1-5-pruned"


def test_sdxl_embedding_pair():
    ident = identify(header({"clip_l": (3, 768), "clip_g": (3, 1280)}))
    assert (ident.kind, ident.base) == ("embedding", "sdxl")
    assert ident.metadata["vectors"] == 3


def test_fp16_fix_vae_recognised_by_its_usual_name_as_a_guess():
    ident = identify(header(ldm_vae(), name="sdxl-vae-fp16-fix.safetensors"))
    assert ident.vae.fp16_fix is True
    assert ident.base == "unknown"
    assert any(e.source == "name" and "fp16-fix" in e.fact for e in ident.evidence)


def test_stock_sdxl_vae_name_is_not_taken_as_fp16_fix():
    ident = identify(header(ldm_vae(), name="sdxl_vae.safetensors"))
    assert not ident.vae.fp16_fix
