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
        ("kohya_sd2_lora", "sd21_checkpoint"),
        ("kohya_sdxl_unet_lora", "sdxl_base_checkpoint"),
        ("kohya_sd15_te_lora", "sd15_checkpoint"),
        ("dora_sd15_lora", "sd15_checkpoint"),
        ("ia3_sd15_lora", "sd15_checkpoint"),
        ("diffusers_attnproc_sd15_lora", "sd15_checkpoint"),
        ("lycoris_flux_lokr", "flux_dev_transformer"),
        ("xlabs_flux_lora", "flux_dev_transformer"),
        ("aitoolkit_flux_lora", "flux_dev_transformer"),
        ("onetrainer_flux_lora", "flux_dev_checkpoint"),
        ("kohya_flux_te_lora", "flux_dev_checkpoint"),
        # The same LoRAs on other spellings of the same model.
        ("kohya_sd15_lora", "sd15_nai_checkpoint"),
        ("kohya_sd15_lora", "sd15_ema_checkpoint"),
        ("kohya_sdxl_lora", "sdxl_vpred_checkpoint"),
        ("kohya_flux_lora", "flux_dev_transformer_diffusers"),
        ("kohya_flux_lora", "flux_dev_fp8_transformer"),
        ("diffusers_flux_lora", "flux_dev_checkpoint"),
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
        "some_trainer.block_3.lora_down.weight": TensorInfo("F16", (4, 320)),
        "not_a_lora_key": TensorInfo("F16", (4,)),
    }
    result = coverage(_lora_header(tensors), header_for("sd15_checkpoint"))
    assert result.unknown_keys == ["not_a_lora_key", "some_trainer.block_3.lora_down.weight"]
    assert result.ratio == 1.0


def _lora_header(tensors):
    lora = Header(path=header_for("kohya_sd15_lora").path, format="safetensors", file_size=0)
    lora.tensors = dict(tensors)
    return lora


def test_kohya_t5_prefix_means_the_t5_slot_of_the_lora_family():
    flux = lora_targets(header_for("kohya_flux_te_lora"))
    assert "text_encoder_2:encoder.block.0.layer.0.SelfAttention.q" in flux  # Flux: T5 is 2nd
    assert "text_encoder:encoder.layers.0.self_attn.q_proj" in flux
    # The same lora_te3_ modules beside an SD3 MMDiT block are SD3's third encoder.
    te3 = {k: v for k, v in header_for("kohya_flux_te_lora").tensors.items() if "_te3_" in k}
    mmdit = {
        "lora_unet_joint_blocks_0_x_block_attn_qkv.lora_down.weight": TensorInfo("F16", (16, 1536))
    }
    result = coverage(_lora_header(te3 | mmdit), header_for("sd3_medium_checkpoint"))
    assert "text_encoder_3:encoder.block.0.layer.0.SelfAttention.q" in result.matched
    assert "transformer:joint_blocks.0.x_block.attn.qkv" in result.matched
    assert result.ratio == 1.0


def test_flux_lora_formats_name_the_same_modules():
    kohya = lora_targets(header_for("kohya_flux_lora"))
    assert lora_targets(header_for("aitoolkit_flux_lora")) == kohya
    xlabs = lora_targets(header_for("xlabs_flux_lora"))
    assert "transformer:double_blocks.0.txt_attn.qkv" in xlabs and xlabs < kohya
    onetrainer = lora_targets(header_for("onetrainer_flux_lora"))
    assert {t for t in onetrainer if t.startswith("transformer:")} <= kohya
    assert "transformer:single_blocks.5.linear1" in lora_targets(header_for("lycoris_flux_lokr"))


def test_flux_lora_on_an_sdxl_checkpoint_is_not_placed_on_its_encoders():
    result = coverage(header_for("onetrainer_flux_lora"), header_for("sdxl_base_checkpoint"))
    # CLIP-L is shared; the T5 modules find no home in SDXL's bigG slot.
    assert result.by_component()["text_encoder"] == 1.0
    assert result.by_component()["text_encoder_2"] == 0.0
    assert result.by_component()["transformer"] == 0.0


def test_sd2_lora_reaches_the_fused_openclip_attention_of_an_sd2_checkpoint():
    result = coverage(header_for("kohya_sd2_lora"), header_for("sd21_checkpoint"))
    assert "text_encoder:encoder.layers.22.self_attn.k_proj" in result.matched
    assert result.by_component() == {"text_encoder": 1.0, "unet": 1.0}
    # On SD1 the 1024-wide encoder and cross-attention no longer fit.
    on_sd1 = coverage(header_for("kohya_sd2_lora"), header_for("sd15_checkpoint"))
    assert on_sd1.by_component()["text_encoder"] == 0.0
    assert "unet:mid_block.attentions.0.transformer_blocks.0.attn2.to_k" in on_sd1.mismatched


def test_ia3_and_dora_keys_are_placed_not_unknown():
    ia3 = lora_targets(header_for("ia3_sd15_lora"))
    assert "unet:up_blocks.3.attentions.2.transformer_blocks.0.ff.net.2" in ia3
    assert "text_encoder:encoder.layers.11.self_attn.v_proj" in ia3
    dora = coverage(header_for("dora_sd15_lora"), header_for("sd15_checkpoint"))
    assert not dora.unknown_keys and dora.targets == lora_targets(header_for("kohya_sd15_lora"))


def test_lycoris_prefix_uses_diffusers_unet_names_outside_flux():
    stem = "lycoris_down_blocks_1_attentions_0_transformer_blocks_1_attn2_to_k"
    tensors = {
        f"{stem}.lokr_w1": TensorInfo("F16", (16, 16)),
        f"{stem}.lokr_w2": TensorInfo("F16", (40, 128)),
    }
    result = coverage(_lora_header(tensors), header_for("sdxl_base_checkpoint"))
    assert result.matched == {"unet:down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_k"}


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
