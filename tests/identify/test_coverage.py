"""LoRA module coverage: targets and model modules in one namespace, matched by name and width."""

from __future__ import annotations

import pytest

from pantry.formats.header import Header, TensorInfo
from pantry.identify.coverage import coverage, kohya_to_dotted, lora_targets, model_targets
from tests.fixtures.modelfiles import diffusers_header_for, header_for


@pytest.mark.parametrize(
    ("lora", "model"),
    [
        ("kohya_sd15_lora", "sd15_checkpoint"),
        ("locon_sd15_lora", "sd15_checkpoint"),
        ("loha_sd15_lora", "sd15_checkpoint"),
        ("kohya_sdxl_lora", "sdxl_base_checkpoint"),
        ("peft_sdxl_lora", "sdxl_base_checkpoint"),
        ("lokr_sdxl_lora", "sdxl_base_checkpoint"),
        ("kohya_flux_lora", "flux_dev_transformer"),
        ("diffusers_flux_lora", "flux_dev_transformer"),
        ("kohya_flux_lora", "flux_schnell_transformer"),
    ],
)
def test_lora_fully_covers_the_base_it_was_made_for(lora, model):
    result = coverage(header_for(lora), header_for(model))
    assert result.ratio == 1.0
    assert not result.unknown_keys


def test_sd1_lora_on_sdxl_misses_most_of_the_unet():
    result = coverage(header_for("kohya_sd15_lora"), header_for("sdxl_base_checkpoint"))
    # SD1 and SDXL share CLIP-L, so only the UNet part tells them apart.
    assert result.by_component()["unet"] < 0.3
    assert result.ratio < 0.5
    cross_attention = {t for t in result.targets if t.endswith(("attn2.to_k", "attn2.to_v"))}
    assert cross_attention and not cross_attention & result.matched


def test_sdxl_lora_on_sd1_checkpoint_is_mostly_missing():
    result = coverage(header_for("kohya_sdxl_lora"), header_for("sd15_checkpoint"))
    assert result.ratio < 0.2
    assert result.by_component()["text_encoder_2"] == 0.0


def test_flux_lora_on_a_unet_model_covers_nothing():
    result = coverage(header_for("kohya_flux_lora"), header_for("sdxl_base_checkpoint"))
    assert result.ratio == 0.0
    assert result.missing == result.targets


def test_diffusers_folder_is_matched_like_a_single_file():
    folder = diffusers_header_for("sdxl")
    assert coverage(header_for("kohya_sdxl_lora"), folder).ratio == 1.0
    assert model_targets(folder) >= lora_targets(header_for("peft_sdxl_lora"))


def test_kohya_sdxl_sgm_names_land_on_diffusers_names():
    targets = lora_targets(header_for("kohya_sdxl_lora"))
    assert "unet:down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_k" in targets
    assert "text_encoder_2:encoder.layers.31.mlp.fc2" in targets
    assert not any("input_blocks" in t for t in targets)


def test_kohya_flux_names_are_bfl_module_paths():
    targets = lora_targets(header_for("kohya_flux_lora"))
    assert "transformer:double_blocks.18.txt_attn.qkv" in targets
    assert "transformer:single_blocks.37.modulation.lin" in targets


def test_openclip_checkpoint_exposes_split_attention_projections():
    modules = model_targets(header_for("sdxl_refiner_checkpoint"))
    for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
        assert f"text_encoder_2:encoder.layers.0.self_attn.{proj}" in modules


def test_unplaceable_keys_are_reported_not_dropped():
    tensors = header_for("kohya_sd15_lora").tensors | {
        "lycoris_something.lora_down.weight": TensorInfo("F16", (4, 320)),
        "not_a_lora_key": TensorInfo("F16", (4,)),
    }
    lora = Header(path=header_for("kohya_sd15_lora").path, format="safetensors", file_size=0)
    lora.tensors = tensors
    result = coverage(lora, header_for("sd15_checkpoint"))
    assert result.unknown_keys == ["lycoris_something.lora_down.weight", "not_a_lora_key"]
    assert result.ratio == 1.0


@pytest.mark.parametrize(
    ("flat", "dotted"),
    [
        (
            "down_blocks_0_attentions_1_transformer_blocks_0_ff_net_0_proj",
            "down_blocks.0.attentions.1.transformer_blocks.0.ff.net.0.proj",
        ),
        (
            "text_model_encoder_layers_11_self_attn_out_proj",
            "text_model.encoder.layers.11.self_attn.out_proj",
        ),
        ("single_blocks_3_modulation_lin", "single_blocks.3.modulation.lin"),
        (
            "output_blocks_5_1_transformer_blocks_1_attn1_to_out_0",
            "output_blocks.5.1.transformer_blocks.1.attn1.to_out.0",
        ),
    ],
)
def test_kohya_flat_names_are_split_on_module_boundaries(flat, dotted):
    assert kohya_to_dotted(flat) == dotted
