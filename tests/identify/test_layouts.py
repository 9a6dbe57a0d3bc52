"""Whole real-layout headers (tests/fixtures/modelfiles.py): every key a real file has."""

import pytest

from pantry.identify import identify
from tests.fixtures import modelfiles

# layout -> expected (kind, base, edition, variant, lora format)
EXPECTED = {
    "sd15_checkpoint": ("checkpoint", "sd1", None, None, None),
    "sd15_inpaint_checkpoint": ("checkpoint", "sd1", None, "inpaint", None),
    "sd21_checkpoint": ("checkpoint", "sd2", None, None, None),
    "sdxl_base_checkpoint": ("checkpoint", "sdxl", None, None, None),
    "sdxl_refiner_checkpoint": ("checkpoint", "sdxl_refiner", None, None, None),
    "sd3_medium_checkpoint": ("checkpoint", "sd3", "medium", None, None),
    "sd35_medium_transformer": ("diffusion_model", "sd3", "3.5_medium", None, None),
    "sd35_large_transformer": ("diffusion_model", "sd3", "3.5_large", None, None),
    "flux_dev_transformer": ("diffusion_model", "flux", "dev", None, None),
    "flux_schnell_transformer": ("diffusion_model", "flux", "schnell", None, None),
    "flux_fill_transformer": ("diffusion_model", "flux", "dev", "fill", None),
    "sd_vae": ("vae", "unknown", None, None, None),
    "sdxl_vae": ("vae", "unknown", None, None, None),
    "flux_vae": ("vae", "unknown", None, None, None),
    "clip_l_text_encoder": ("text_encoder", "unknown", None, None, None),
    "t5xxl_text_encoder": ("text_encoder", "unknown", None, None, None),
    "controlnet_sd15": ("controlnet", "sd1", None, None, None),
    "controlnet_sd15_diffusers": ("controlnet", "sd1", None, None, None),
    "ip_adapter_sd15": ("ip_adapter", "sd1", None, None, None),
    "embedding_sd15": ("embedding", "sd1", None, None, None),
    "embedding_sdxl": ("embedding", "sdxl", None, None, None),
    "sd15_unet_diffusers": ("diffusion_model", "sd1", None, None, None),
    "sdxl_unet_diffusers": ("diffusion_model", "sdxl", None, None, None),
    "sd15_vae_diffusers": ("vae", "unknown", None, None, None),
    "clip_g_hf": ("text_encoder", "unknown", None, None, None),
    "kohya_sd15_lora": ("lora", "sd1", None, None, "kohya"),
    "kohya_sdxl_lora": ("lora", "sdxl", None, None, "kohya"),
    "peft_sdxl_lora": ("lora", "sdxl", None, None, "diffusers"),
    "locon_sd15_lora": ("lora", "sd1", None, None, "lycoris-locon"),
    "loha_sd15_lora": ("lora", "sd1", None, None, "lycoris-loha"),
    "lokr_sdxl_lora": ("lora", "sdxl", None, None, "lycoris-lokr"),
    "kohya_flux_lora": ("lora", "flux", None, None, "kohya"),
    "diffusers_flux_lora": ("lora", "flux", None, None, "diffusers"),
}


def _layout(name):
    if name not in modelfiles.LAYOUTS:
        pytest.skip(f"fixture layout {name} not built")
    return modelfiles.header_for(name, path=f"model-{len(name)}.safetensors")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_full_layout_is_identified(name):
    ident = identify(_layout(name))
    kind, base, edition, variant, lora_format = EXPECTED[name]
    assert (ident.kind, ident.base) == (kind, base), ident.reason
    assert ident.edition == edition
    assert ident.variant == variant
    assert not ident.errors
    if lora_format:
        assert ident.lora.format == lora_format
        assert ident.lora.rank


@pytest.mark.parametrize(
    "name",
    ["sd15_checkpoint", "sdxl_base_checkpoint", "sdxl_refiner_checkpoint", "sd3_medium_checkpoint"],
)
def test_full_checkpoints_miss_nothing(name):
    assert identify(_layout(name)).components["missing"] == []


def test_ambiguous_full_vaes_keep_their_candidates():
    assert identify(_layout("sd_vae")).base_candidates == ["sd1", "sdxl"]
    assert identify(_layout("flux_vae")).base_candidates == ["sd3", "flux"]


def test_dtype_recast_changes_precision_only():
    fp16 = (
        identify(modelfiles.header_for("sd15_checkpoint", dtype="F16"))
        if ("sd15_checkpoint" in modelfiles.LAYOUTS)
        else pytest.skip("layout not built")
    )
    assert (fp16.precision, fp16.base) == ("fp16", "sd1")
    assert fp16.params > 1_000_000_000


@pytest.mark.parametrize("pipeline", sorted(modelfiles.DIFFUSERS_PIPELINES))
def test_diffusers_folders(pipeline):
    if not set(modelfiles.DIFFUSERS_PIPELINES[pipeline][1].values()) <= set(modelfiles.LAYOUTS):
        pytest.skip("fixture layouts not built")
    ident = identify(modelfiles.diffusers_header_for(pipeline))
    assert ident.kind == "checkpoint"
    assert ident.base == {"sd15": "sd1", "sdxl": "sdxl"}[pipeline]
    assert ident.confidence == "high"
    assert ident.components["missing"] == []
