"""LoRA formats, ranks, targets and base inference."""

import pytest

from pantry.identify import identify
from tests.identify.builders import (
    FLUX_KOHYA_MODULES,
    SD1_KOHYA_MODULES,
    SDXL_KOHYA_MODULES,
    header,
    kohya_lora,
    peft_lora,
)


def test_kohya_sd1_lora_rank_targets_and_base():
    ident = identify(header(kohya_lora(SD1_KOHYA_MODULES, rank=4)))
    assert (ident.kind, ident.base) == ("lora", "sd1")
    assert ident.lora.format == "kohya"
    assert ident.lora.rank == 4
    assert ident.lora.targets == {"unet": 3, "text_encoder": 1}
    assert ident.lora.module_count == 4


def test_alpha_comes_from_metadata_because_alpha_tensors_have_no_value_in_a_header():
    plain = identify(header(kohya_lora(SD1_KOHYA_MODULES)))
    with_meta = identify(header(kohya_lora(SD1_KOHYA_MODULES), metadata={"ss_network_alpha": "8"}))
    assert plain.lora.alpha is None
    assert with_meta.lora.alpha == 8.0


def test_sdxl_lora_from_cross_attention_width():
    ident = identify(header(kohya_lora(SDXL_KOHYA_MODULES)))
    assert ident.base == "sdxl"
    assert ident.lora.targets["text_encoder_2"] == 1


def test_unet_only_sdxl_lora_from_deep_transformer_block_index():
    modules = {"lora_unet_down_blocks_2_attentions_1_transformer_blocks_9_ff_net_2": (1280, 5120)}
    ident = identify(header(kohya_lora(modules)))
    assert ident.base == "sdxl"
    assert ident.confidence == "medium"


def test_flux_kohya_lora_targets_the_transformer():
    ident = identify(header(kohya_lora(FLUX_KOHYA_MODULES)))
    assert ident.base == "flux"
    assert ident.lora.targets == {"transformer": 3}


def test_peft_lora_is_diffusers_format():
    modules = {
        "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k": (640, 2048),
        "text_encoder.text_model.encoder.layers.0.self_attn.q_proj": (768, 768),
    }
    ident = identify(header(peft_lora(modules, rank=16)))
    assert ident.lora.format == "diffusers"
    assert (ident.base, ident.lora.rank) == ("sdxl", 16)
    assert ident.lora.targets == {"unet": 1, "text_encoder": 1}


def test_dora_scale_sets_dora_and_keeps_the_underlying_format():
    ident = identify(header(kohya_lora(SD1_KOHYA_MODULES, dora=True)))
    assert ident.lora.dora is True
    assert ident.lora.format == "kohya"


def test_lycoris_metadata_makes_lora_down_files_locon():
    meta = {"ss_network_module": "lycoris.kohya", "ss_network_args": '{"algo": "locon"}'}
    ident = identify(header(kohya_lora(SD1_KOHYA_MODULES), metadata=meta))
    assert ident.lora.format == "lycoris-locon"
    assert ident.metadata["network_args"] == {"algo": "locon"}


@pytest.mark.parametrize(
    ("suffixes", "expected"),
    [
        (
            {
                "hada_w1_a": (320, 4),
                "hada_w1_b": (4, 768),
                "hada_w2_a": (320, 4),
                "hada_w2_b": (4, 768),
            },
            "lycoris-loha",
        ),
        ({"lokr_w1": (4, 8), "lokr_w2": (80, 96)}, "lycoris-lokr"),
        ({"diff": (320, 768), "diff_b": (320,)}, "lycoris-full"),
        ({"weight": (320,), "on_input": ()}, "ia3"),
        (
            {
                "a1.weight": (4, 768),
                "a2.weight": (320, 4),
                "b1.weight": (4, 768),
                "b2.weight": (320, 4),
                "alpha": (),
            },
            "lycoris-glora",
        ),
        ({"oft_blocks": (4, 80, 80), "alpha": ()}, "oft"),
        ({"oft_blocks": (2, 4, 80, 80)}, "boft"),
    ],
)
def test_lycoris_algorithms_from_key_suffixes(suffixes, expected):
    name = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k"
    ident = identify(header({f"{name}.{s}": shape for s, shape in suffixes.items()}))
    assert ident.kind == "lora"
    assert ident.lora.format == expected


def test_loha_width_still_tells_the_base():
    name = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k"
    parts = {
        "hada_w1_a": (320, 4),
        "hada_w1_b": (4, 1024),
        "hada_w2_a": (320, 4),
        "hada_w2_b": (4, 1024),
    }
    ident = identify(header({f"{name}.{s}": shape for s, shape in parts.items()}))
    assert (ident.base, ident.lora.rank) == ("sd2", 4)


def test_xlabs_flux_lora():
    spec = {
        "double_blocks.0.processor.qkv_lora1.down.weight": (16, 3072),
        "double_blocks.0.processor.qkv_lora1.up.weight": (9216, 16),
        "double_blocks.0.processor.proj_lora1.down.weight": (16, 3072),
        "double_blocks.0.processor.proj_lora1.up.weight": (3072, 16),
    }
    ident = identify(header(spec))
    assert (ident.kind, ident.lora.format, ident.base) == ("lora", "xlabs", "flux")


def test_flux_control_lora_with_norms_is_a_lora_not_a_model():
    spec = {
        "img_in.lora_A.weight": (128, 128),
        "img_in.lora_B.weight": (3072, 128),
        "img_in.lora_B.bias": (3072,),
        "double_blocks.0.img_attn.norm.key_norm.scale": (128,),
        "double_blocks.0.img_attn.qkv.lora_A.weight": (128, 3072),
        "double_blocks.0.img_attn.qkv.lora_B.weight": (9216, 128),
        "double_blocks.0.img_attn.proj.lora_A.weight": (128, 3072),
        "double_blocks.0.img_attn.proj.lora_B.weight": (3072, 128),
    }
    ident = identify(header(spec))
    assert ident.kind == "lora"
    assert ident.lora.format == "control-lora"
    assert ident.base == "flux"


def test_metadata_base_used_when_structure_is_silent():
    modules = {"lora_unet_conv_in": (320, 4)}
    ident = identify(header(kohya_lora(modules), metadata={"ss_base_model_version": "sd_v2_v"}))
    assert (ident.base, ident.confidence) == ("sd2", "medium")
    assert "v_prediction" in ident.variants


def test_lora_base_conflict_between_metadata_and_structure_lowers_confidence():
    meta = {"ss_base_model_version": "sd_v1"}
    ident = identify(header(kohya_lora(SDXL_KOHYA_MODULES), metadata=meta))
    assert ident.base == "sdxl"
    assert ident.confidence == "medium"
    assert any(e.fact.startswith("conflict") for e in ident.evidence)


def test_lora_base_never_comes_from_the_file_name():
    ident = identify(
        header(kohya_lora({"lora_unet_conv_in": (320, 4)}), name="my_sdxl_lora.safetensors")
    )
    assert ident.base == "unknown"
    assert ident.reason
