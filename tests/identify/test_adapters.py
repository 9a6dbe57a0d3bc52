"""ControlNet, T2I-Adapter, IP-Adapter, hypernetworks, upscalers."""

from pantry.identify import identify
from tests.identify.builders import header, ldm_unet, prefixed


def test_ldm_controlnet_outranks_the_unet_blocks_it_carries():
    spec = prefixed("control_model.", ldm_unet(768))
    spec["control_model.zero_convs.0.0.weight"] = (320, 320, 1, 1)
    spec["control_model.input_hint_block.0.weight"] = (16, 3, 3, 3)
    ident = identify(header(spec))
    assert (ident.kind, ident.base) == ("controlnet", "sd1")


def test_bare_controlnet_is_not_a_diffusion_model():
    spec = ldm_unet(1024)
    spec["zero_convs.0.0.weight"] = (320, 320, 1, 1)
    ident = identify(header(spec))
    assert (ident.kind, ident.base) == ("controlnet", "sd2")


def test_ip_adapter_base_from_projection_width():
    spec = {
        "image_proj.proj.weight": (3072, 1024),
        "ip_adapter.1.to_k_ip.weight": (320, 768),
        "ip_adapter.1.to_v_ip.weight": (320, 768),
    }
    assert (identify(header(spec)).kind, identify(header(spec)).base) == ("ip_adapter", "sd1")


def test_t2i_adapter_xl_from_input_channels():
    spec = {
        "adapter.conv_in.weight": (320, 768, 3, 3),
        "adapter.body.0.resnets.0.block1.weight": (320, 320, 3, 3),
    }
    ident = identify(header(spec))
    assert (ident.kind, ident.base) == ("t2i_adapter", "sdxl")


def test_hypernetwork_pickle_with_width_keys():
    spec = {"768.0.linear.0.weight": (1536, 768), "320.0.linear.0.weight": (640, 320)}
    h = header(
        spec, fmt="pickle", extras={"layer_structure": "[1, 2, 1]", "activation_func": "relu"}
    )
    ident = identify(h)
    assert (ident.kind, ident.base) == ("hypernetwork", "sd1")


def test_esrgan_upscaler_has_no_base_and_no_unknown_reason():
    spec = {"model.0.weight": (64, 3, 3, 3), "model.1.sub.0.RDB1.conv1.0.weight": (32, 64, 3, 3)}
    ident = identify(header(spec, fmt="pickle"))
    assert ident.kind == "upscaler"
    assert ident.confidence == "high"
    assert ident.reason is None


def test_unsafe_pickle_is_flagged_and_still_identified():
    spec = {"emb_params": (1, 768)}
    ident = identify(header(spec, fmt="pickle", unsafe=["os.system"]))
    assert ident.unsafe is True
    assert ident.unsafe_globals == ["os.system"]
    assert ident.kind == "embedding"


def test_hypernetwork_with_every_default_size_does_not_claim_a_base():
    spec = {f"{w}.0.linear.0.weight": (2 * w, w) for w in (320, 640, 768, 1024, 1280)}
    extras = {"layer_structure": "[1, 2, 1]", "sd_checkpoint_name": "myMix_v3"}
    ident = identify(header(spec, fmt="pickle", extras=extras))
    assert (ident.kind, ident.base) == ("hypernetwork", "unknown")
    assert ident.base_candidates == ["sd1", "sd2"]
    assert ident.metadata["training_base"] == "myMix_v3"


def test_hypernetwork_trained_on_the_novelai_leak_is_sd1_as_a_low_confidence_guess():
    spec = {f"{w}.0.linear.0.weight": (2 * w, w) for w in (320, 640, 768, 1024, 1280)}
    extras = {"layer_structure": "[1, 2, 1]", "sd_checkpoint_name": "animefull-final-pruned"}
    ident = identify(header(spec, fmt="pickle", extras=extras))
    assert (ident.base, ident.lineage, ident.confidence) == ("sd1", "novelai", "low")
    assert ident.reason is None
