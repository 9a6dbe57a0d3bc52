"""The other files users keep in model folders: each gets its kind, or "unknown" naming it."""

import pytest

from pantry.identify import identify
from pantry.identify.describe import summary_lines
from tests.identify import other_layouts as o
from tests.identify.builders import header, ldm_unet, prefixed

# --- IP-Adapter family ------------------------------------------------------------------------

IP_ADAPTERS = {
    # name: (spec, base, adapter type, image encoder)
    "sd15 standard": (o.ip_adapter(o.PROJ_STANDARD_SD15, 768), "sd1", "standard", "CLIP ViT-H/14"),
    "sdxl standard": (
        o.ip_adapter(o.PROJ_STANDARD_SDXL, 2048, blocks=70),
        "sdxl",
        "standard",
        "CLIP ViT-bigG/14",
    ),
    "sd15 plus": (o.ip_adapter(o.PROJ_PLUS_SD15, 768), "sd1", "plus", "CLIP ViT-H/14"),
    "sd15 full face": (
        o.ip_adapter(o.PROJ_FULL_FACE_SD15, 768),
        "sd1",
        "full-face",
        "CLIP ViT-H/14",
    ),
    "sd15 faceid": (
        o.ip_adapter(o.PROJ_FACEID_SD15, 768, lora=True),
        "sd1",
        "faceid",
        "InsightFace face embedding",
    ),
    "instantid": (
        o.ip_adapter(o.PROJ_INSTANTID, 2048, blocks=70),
        "sdxl",
        "instantid",
        "InsightFace face embedding",
    ),
}


@pytest.mark.parametrize("name", sorted(IP_ADAPTERS))
def test_ip_adapter_variant_base_type_and_encoder(name):
    spec, base, adapter_type, encoder = IP_ADAPTERS[name]
    ident = identify(header(spec, fmt="pickle", name="ip-adapter.bin"))
    assert (ident.kind, ident.base) == ("ip_adapter", base)
    assert ident.metadata["ip_adapter_type"] == adapter_type
    assert ident.metadata["image_encoder"] == encoder


def test_faceid_lora_weights_do_not_turn_the_ip_adapter_into_a_conflict():
    spec = o.ip_adapter(o.PROJ_FACEID_SD15, 768, lora=True)
    ident = identify(header(spec))
    assert ident.kind == "ip_adapter" and ident.reason is None


# --- CLIP vision, motion modules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoder"),
    [("clip_vision_vit_h", "CLIP ViT-H/14"), ("clip_vision_vit_bigg", "CLIP ViT-bigG/14")],
)
def test_clip_vision_encoder_is_its_own_kind_without_a_base(name, encoder):
    ident = identify(header(o.layout(name)))
    assert (ident.kind, ident.base, ident.confidence) == ("clip_vision", "unknown", "high")
    assert ident.metadata["image_encoder"] == encoder
    assert ident.reason is None
    assert "base unknown" not in summary_lines(ident)[0]


@pytest.mark.parametrize(
    ("name", "base"), [("motion_module_sd15_v2", "sd1"), ("motion_module_sdxl_beta", "sdxl")]
)
def test_animatediff_motion_module_base_from_its_unet_levels(name, base):
    ident = identify(header(o.layout(name), fmt="pickle", name="mm.ckpt"))
    assert (ident.kind, ident.base) == ("motion_module", base)
    assert ident.metadata["max_frames"] == 32


def test_motion_lora_is_a_lora_not_a_motion_module():
    spec = {}
    for level in range(4):
        stem = f"down_blocks.{level}.motion_modules.0.temporal_transformer.transformer_blocks.0"
        for attention in (0, 1):
            name = f"{stem}.attention_blocks.{attention}.processor.to_q_lora"
            spec[f"{name}.down.weight"] = (32, 320)
            spec[f"{name}.up.weight"] = (320, 32)
    ident = identify(header(spec))
    assert ident.kind == "lora"


# --- ControlNet family ------------------------------------------------------------------------


def test_control_lora_is_a_controlnet_flagged_as_control_lora():
    ident = identify(header(o.control_lora()))
    assert (ident.kind, ident.base) == ("controlnet", "sdxl")
    assert ident.metadata["control_lora"] is True


def test_diff_controlnet_is_a_controlnet_with_a_warning():
    spec = prefixed("control_model.", ldm_unet(768))
    spec["control_model.zero_convs.0.0.weight"] = (320, 320, 1, 1)
    spec["difference"] = ()
    ident = identify(header(spec))
    assert (ident.kind, ident.base) == ("controlnet", "sd1")
    assert any("diff ControlNet" in w for w in ident.warnings)


@pytest.mark.parametrize("spec", [o.layout("flux_controlnet_instantx"), o.xlabs_flux_controlnet()])
def test_flux_controlnets_are_flux_controlnets(spec):
    ident = identify(header(spec))
    assert (ident.kind, ident.base) == ("controlnet", "flux")


def test_light_t2i_adapter_base_from_its_first_block():
    ident = identify(header(o.layout("t2i_adapter_light_sd15")))
    assert (ident.kind, ident.base) == ("t2i_adapter", "sd1")


def test_style_t2i_adapter_base_from_its_token_width():
    spec = {
        "style_embedding": (1, 8, 1024),
        "transformer_layes.0.attn.in_proj_weight": (3072, 1024),
        "proj": (1024, 768),
    }
    ident = identify(header(spec, fmt="pickle"))
    assert (ident.kind, ident.base) == ("t2i_adapter", "sd1")


# --- Pixel-space networks ---------------------------------------------------------------------

UPSCALERS = {
    "esrgan old": (o.esrgan_old(), "ESRGAN (original RRDB layout)"),
    "realesrgan": (o.realesrgan(), "Real-ESRGAN (RRDBNet)"),
    "realesrgan compact": (o.realesrgan_compact(), "Real-ESRGAN compact (SRVGGNet)"),
    "swinir": (o.swinir(), "SwinIR"),
    "hat": (o.hat(), "HAT"),
}


@pytest.mark.parametrize("name", sorted(UPSCALERS))
def test_upscaler_family_is_named_and_base_is_not_a_gap(name):
    spec, family = UPSCALERS[name]
    ident = identify(header(spec, fmt="pickle", name="4x.pth"))
    assert (ident.kind, ident.base, ident.reason) == ("upscaler", "unknown", None)
    assert ident.metadata["family"] == family


@pytest.mark.parametrize(
    ("spec", "family"), [(o.gfpgan(), "GFPGAN"), (o.codeformer(), "CodeFormer")]
)
def test_face_restorers_are_not_upscalers(spec, family):
    ident = identify(header(spec, fmt="pickle"))
    assert (ident.kind, ident.base, ident.reason) == ("face_restorer", "unknown", None)
    assert ident.metadata["family"] == family


def test_vq_autoencoder_is_not_taken_for_a_diffusion_vae():
    spec = {
        "encoder.conv_in.weight": (128, 3, 3, 3),
        "decoder.conv_in.weight": (512, 256, 3, 3),
        "quantize.embedding.weight": (1024, 256),
    }
    ident = identify(header(spec))
    assert ident.kind == "unknown"
    assert "vector-quantised" in ident.reason


# --- Not generation models --------------------------------------------------------------------


def test_yolo_detector_is_unknown_with_a_reason_naming_it():
    h = header(o.yolov8_pickle_tensors(), fmt="pickle", name="face_yolov8n.pt")
    h.pickle_globals = list(o.YOLO_GLOBALS)
    h.unsafe_globals = [g for g in o.YOLO_GLOBALS if g.startswith("ultralytics")]
    ident = identify(h)
    assert ident.kind == "unknown" and ident.unsafe
    assert "Ultralytics YOLO" in ident.reason


def test_segment_anything_is_unknown_with_a_reason_naming_it():
    ident = identify(header(o.sam_vit_b(), fmt="pickle"))
    assert ident.kind == "unknown"
    assert "Segment Anything" in ident.reason
