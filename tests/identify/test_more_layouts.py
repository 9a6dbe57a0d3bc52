"""Identity of the wider set of real-world layouts (variants, fp8, bundles, LoRA dialects)."""

import pytest

from pantry.identify import identify
from tests.fixtures.modelfiles import header_for

EXPECTED = {
    # layout: (kind, base, edition, variants)
    "sd15_pix2pix_checkpoint": ("checkpoint", "sd1", None, ["pix2pix"]),
    "sd15_ema_checkpoint": ("checkpoint", "sd1", None, []),
    "sd15_pruned_fp16_checkpoint": ("checkpoint", "sd1", None, []),
    "sd15_nai_checkpoint": ("checkpoint", "sd1", None, []),
    "sdxl_inpaint_checkpoint": ("checkpoint", "sdxl", None, ["inpaint"]),
    "sdxl_vpred_checkpoint": ("checkpoint", "sdxl", None, ["v_prediction", "ztsnr"]),
    "playground_v25_checkpoint": ("checkpoint", "sdxl", None, ["edm"]),
    "flux_dev_checkpoint": ("checkpoint", "flux", "dev", []),
    "flux_dev_fp8_transformer": ("diffusion_model", "flux", "dev", []),
    "flux_depth_transformer": ("diffusion_model", "flux", "dev", ["depth"]),
    "flux_dev_transformer_diffusers": ("diffusion_model", "flux", "dev", []),
    "controlnet_sdxl_diffusers": ("controlnet", "sdxl", None, []),
    "t2i_adapter_sdxl_diffusers": ("t2i_adapter", "sdxl", None, []),
    "ip_adapter_sdxl": ("ip_adapter", "sdxl", None, []),
    "esrgan_x4plus": ("upscaler", "unknown", None, []),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_layout_is_identified(name):
    ident = identify(header_for(name))
    assert (ident.kind, ident.base, ident.edition, ident.variants) == EXPECTED[name]


LORAS = {
    # layout: (base, format)
    "kohya_sd2_lora": ("sd2", "kohya"),
    "kohya_sd15_te_lora": ("sd1", "kohya"),
    "ia3_sd15_lora": ("sd1", "ia3"),
    "diffusers_attnproc_sd15_lora": ("sd1", "diffusers"),
    "kohya_sdxl_unet_lora": ("sdxl", "kohya"),
    "lycoris_flux_lokr": ("flux", "lycoris-lokr"),
    "xlabs_flux_lora": ("flux", "xlabs"),
    "aitoolkit_flux_lora": ("flux", "diffusers"),
    "kohya_flux_te_lora": ("flux", "kohya"),
}


@pytest.mark.parametrize("name", sorted(LORAS))
def test_lora_dialect_is_identified(name):
    ident = identify(header_for(name))
    assert ident.kind == "lora"
    assert (ident.base, ident.lora.format) == LORAS[name]


def test_dora_is_flagged_on_top_of_its_underlying_format():
    ident = identify(header_for("dora_sd15_lora"))
    assert ident.lora.dora is True
    assert ident.base == "sd1"


def test_fp8_transformer_reports_fp8_precision():
    assert identify(header_for("flux_dev_fp8_transformer")).precision == "fp8"


def test_ema_checkpoint_lists_ema_among_its_components():
    assert "ema" in identify(header_for("sd15_ema_checkpoint")).components["present"]


@pytest.mark.parametrize(
    "name", ["clip_l_text_encoder", "clip_g_text_encoder", "t5xxl_text_encoder"]
)
def test_shared_text_encoders_are_not_pinned_to_one_base(name):
    ident = identify(header_for(name))
    assert ident.kind == "text_encoder"
    assert ident.base == "unknown" and len(ident.base_candidates) >= 2


def test_pruned_checkpoint_with_only_ema_bookkeeping_has_no_ema():
    assert "ema" not in identify(header_for("sd15_checkpoint")).components["present"]
