"""Main-model families beyond SD/SDXL/Flux, and look-alikes that must not borrow their base."""

import pytest

from pantry.identify import identify
from tests.identify.builders import header, ldm_unet, prefixed
from tests.identify.other_layouts import layout


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("hunyuan_dit_diffusers", "hunyuan_dit"),
        ("auraflow_diffusers", "auraflow"),
        ("lumina2_diffusers", "lumina2"),
    ],
)
def test_diffusers_layout_transformers_are_recognised(name, base):
    ident = identify(header(layout(name)))
    assert (ident.kind, ident.base) == ("diffusion_model", base)


def test_pixart_original_layout_is_pixart():
    spec = {
        "x_embedder.proj.weight": (1152, 4, 2, 2),
        "t_block.1.weight": (6912, 1152),
        "y_embedder.y_proj.fc1.weight": (1152, 4096),
        "blocks.0.attn.qkv.weight": (3456, 1152),
    }
    assert identify(header(spec)).base == "pixart"


def test_z_image_style_lumina_transformer_is_not_called_lumina2():
    spec = {"cap_embedder.0.weight": (2560,), "cap_embedder.1.weight": (3840, 2560)}
    spec["layers.0.attention.qkv.weight"] = (11520, 3840)
    ident = identify(header(spec))
    assert (ident.kind, ident.base) == ("diffusion_model", "unknown")
    assert "2560" in ident.reason


def test_kolors_unet_is_not_called_sdxl():
    spec = ldm_unet(2048, xl=True) | {"encoder_hid_proj.weight": (2048, 4096)}
    ident = identify(header(spec))
    assert (ident.kind, ident.base) == ("diffusion_model", "unknown")
    assert "Kolors" in ident.reason


def test_sd21_unclip_checkpoint_has_the_unclip_variant():
    unet = ldm_unet(1024) | {"label_emb.0.0.weight": (1280, 2048)}
    spec = prefixed("model.diffusion_model.", unet)
    spec["embedder.model.visual.conv1.weight"] = (1280, 3, 14, 14)
    ident = identify(header(spec))
    assert (ident.base, ident.variant) == ("sd2", "unclip")


@pytest.mark.parametrize(
    ("key", "stage"), [("clip_txt_mapper.weight", "c"), ("effnet_mapper.0.weight", "b")]
)
def test_stable_cascade_stage_is_named(key, stage):
    spec = {"clf.1.weight": (64, 2048, 1, 1), key: (2048, 1280)}
    ident = identify(header(spec))
    assert (ident.base, ident.metadata["cascade_stage"]) == ("cascade", stage)
