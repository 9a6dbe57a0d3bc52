"""Metadata as real trainers and tools write it: kohya ss_*, ModelSpec, ComfyUI, ai-toolkit."""

import json

import pytest

from pantry.identify import identify
from tests.identify.builders import (
    SD1_KOHYA_MODULES,
    SDXL_KOHYA_MODULES,
    flux_transformer,
    header,
    kohya_lora,
    peft_lora,
    sdxl_checkpoint,
)

PONY_SHA = "67ab2fd8ec439a89b3fedb15cc65f54336af163c7eb5e4f2acc98f090a29b0b3"
# A LoRA module whose shape names no base: only metadata can say.
SILENT = {"lora_unet_conv_in": (320, 4)}


def lora(metadata, modules=SDXL_KOHYA_MODULES):
    return identify(header(kohya_lora(modules), metadata=metadata))


@pytest.mark.parametrize(
    ("arch", "base", "edition"),
    [
        ("stable-diffusion-xl-v1-base/lora", "sdxl", None),
        ("Flux.1-dev/lora", "flux", "dev"),
        ("flux-1-dev", "flux", "dev"),
        ("flux.1-kontext-dev/lora", "flux", None),
        ("stable-diffusion-v3-medium", "sd3", "medium"),
        ("stable-diffusion-3.5-large", "sd3", "3.5_large"),
        ("stable-diffusion-v3.5-large/lora", "sd3", "3.5_large"),
        ("stable-diffusion-v2-768-v/lora", "sd2", "768_v"),
    ],
)
def test_modelspec_architecture_spellings(arch, base, edition):
    ident = lora({"modelspec.architecture": arch}, SILENT)
    assert (ident.base, ident.edition, ident.confidence) == (base, edition, "medium")


def test_unknown_architecture_is_named_in_the_reason():
    ident = lora({"modelspec.architecture": "hunyuan-video/lora"}, SILENT)
    assert ident.base == "unknown"
    assert "hunyuan-video/lora" in ident.reason


@pytest.mark.parametrize(
    ("version", "base", "edition", "variants"),
    [
        ("sdxl_base_v1-0", "sdxl", None, []),
        ("sd_v1", "sd1", None, []),
        ("sd_v2_v", "sd2", "768_v", ["v_prediction"]),
        ("sd_v2_768_v", "sd2", "768_v", ["v_prediction"]),
        ("flux1", "flux", None, []),
        ("sd3", "sd3", None, []),
        ("5-large", "sd3", "3.5_large", []),
        ("None", "unknown", None, []),
        ("", "unknown", None, []),
    ],
)
def test_kohya_base_model_versions(version, base, edition, variants):
    ident = lora({"ss_base_model_version": version, "ss_v2": "False"}, SILENT)
    assert (ident.base, ident.edition, ident.variants) == (base, edition, variants)


def test_ss_v2_false_is_not_sd2():
    assert lora({"ss_v2": "False"}, SILENT).base == "unknown"


def test_none_and_non_object_json_values_are_skipped_or_warned_never_raised():
    meta = {
        "ss_clip_skip": "None",
        "ss_resolution": "None",
        "ss_network_alpha": "None",
        "ss_network_dim": "None",
        "ss_output_name": "None",
        "ss_base_model_version": "None",
        "ss_dataset_dirs": "null",
        "ss_network_args": '"lokr"',
        "ss_tag_frequency": "[1, 2]",
    }
    ident = lora(meta)
    assert ident.base == "sdxl"
    assert ident.metadata == {}
    assert ident.lora.alpha is None
    assert not any("ss_network_alpha" in w for w in ident.warnings)
    assert any("ss_network_args" in w for w in ident.warnings)


def test_absurdly_long_values_are_cut_and_stay_fast():
    meta = {
        "modelspec.title": "x" * 100_000,
        "modelspec.thumbnail": "data:image/png;base64," + "A" * 2_000_000,
        "ss_tag_frequency": json.dumps({"1_img": {f"tag{i}": i % 50 for i in range(20_000)}}),
    }
    ident = lora(meta)
    assert len(ident.metadata["title"]) <= 501
    assert len(ident.metadata["tag_frequency"]) == 20


def test_kohya_lycoris_network_args_are_kept_as_an_object():
    meta = {
        "ss_network_module": "lycoris.kohya",
        "ss_network_args": json.dumps({"algo": "lokr", "conv_dim": "4", "factor": "-1"}),
    }
    assert lora(meta).metadata["network_args"]["algo"] == "lokr"


def test_v_parameterization_and_zero_terminal_snr_training_flags():
    meta = {
        "ss_base_model_version": "sdxl_base_v1-0",
        "ss_sd_model_name": "noobaiXLNAIXL_vPred10Version.safetensors",
        "ss_v_parameterization": "True",
        "ss_zero_terminal_snr": "True",
    }
    ident = lora(meta)
    assert (ident.base, ident.lineage) == ("sdxl", "noobai")
    assert ident.variants == ["v_prediction", "ztsnr"]


def test_pony_training_base_path_gives_lineage():
    path = "/content/models/ponyDiffusionV6XL_v6StartWithThisOne.safetensors"
    ident = lora({"ss_sd_model_name": path, "ss_base_model_version": "sdxl_base_v1-0"})
    assert ident.lineage == "pony"


def test_illustrious_training_base_gives_lineage():
    assert lora({"ss_sd_model_name": "illustriousXL_v01.safetensors"}).lineage == "illustrious"


def test_pony_in_an_sd1_loras_metadata_does_not_make_it_sdxl():
    meta = {"ss_sd_model_name": "ponyDiffusionV6XL.safetensors", "ss_base_model_version": "sd_v1"}
    ident = lora(meta, SD1_KOHYA_MODULES)
    assert (ident.base, ident.lineage) == ("sd1", None)
    assert any("pony" in w for w in ident.warnings)


def test_my_little_pony_in_a_title_is_not_the_pony_lineage():
    assert lora({"modelspec.title": "My Little Pony - Twilight Sparkle"}).lineage is None


@pytest.mark.parametrize(
    "title", ["Twilight [PonyXL]", "twilight_PDXL_v2", "Char (Pony Diffusion)"]
)
def test_pony_family_words_in_a_title_give_the_lineage(title):
    assert lora({"modelspec.title": title}).lineage == "pony"


def test_novelai_leak_as_training_base_is_novelai_lineage_on_sd1():
    meta = {"ss_sd_model_name": "animefull-final-pruned.ckpt", "ss_clip_skip": "2"}
    ident = lora(meta, SD1_KOHYA_MODULES)
    assert (ident.base, ident.lineage) == ("sd1", "novelai")
    assert ident.metadata["clip_skip"] == 2
    assert (ident.style.value, ident.style.source) == ("anime", "lineage")


def test_novelai_lineage_on_an_sdxl_lora_is_ignored():
    ident = lora({"ss_sd_model_name": "animefull-final-pruned.ckpt"})
    assert (ident.base, ident.lineage) == ("sdxl", None)


def test_text_encoder_only_lora_takes_its_base_from_a_pony_training_base_as_a_guess():
    modules = {"text_encoder.text_model.encoder.layers.0.self_attn.q_proj": (768, 768)}
    meta = {"ss_sd_model_name": "ponyDiffusionV6XL_v6StartWithThisOne.safetensors"}
    ident = identify(header(peft_lora(modules), metadata=meta))
    assert (ident.base, ident.lineage, ident.confidence) == ("sdxl", "pony", "low")
    assert ident.reason is None


def test_pony_v6_training_base_hash_decides_lineage_and_base():
    ident = lora({"ss_new_sd_model_hash": PONY_SHA}, SILENT)
    assert (ident.base, ident.lineage, ident.confidence) == ("sdxl", "pony", "medium")


def test_hugging_face_id_of_the_training_base_is_a_low_confidence_base():
    ident = lora({"ss_sd_model_name": "stabilityai/stable-diffusion-xl-base-1.0"}, SILENT)
    assert (ident.base, ident.confidence) == ("sdxl", "low")
    assert any(e.about == "base" and e.source == "metadata" for e in ident.evidence)


def test_training_base_name_never_overrides_the_tensors():
    ident = lora({"ss_sd_model_name": "v1-5-pruned-emaonly.safetensors"})
    assert (ident.base, ident.confidence) == ("sdxl", "high")
    assert any("v1-5-pruned" in w for w in ident.warnings)


def test_comfyui_checkpoint_save_metadata():
    workflow = json.dumps({"nodes": [{"type": "CheckpointLoaderSimple"}] * 500})
    meta = {
        "modelspec.sai_model_spec": "1.0.0",
        "modelspec.architecture": "stable-diffusion-xl-v1-base",
        "modelspec.implementation": "sgm",
        "modelspec.title": "checkpoint_00001_",
        "modelspec.predict_key": "epsilon",
        "prompt": workflow,
        "workflow": workflow,
    }
    ident = identify(sdxl_checkpoint(metadata=meta))
    assert (ident.kind, ident.base, ident.confidence) == ("checkpoint", "sdxl", "high")
    assert ident.variants == []
    assert "prompt" not in ident.metadata


def test_a_workflow_naming_a_canny_node_does_not_make_flux_depth_canny():
    meta = {"workflow": json.dumps({"nodes": [{"type": "CannyEdgePreprocessor"}]})}
    ident = identify(header(flux_transformer(img_in=128), metadata=meta))
    assert ident.variant == "depth"


def test_ai_toolkit_metadata():
    meta = {
        "software": json.dumps({"name": "ai-toolkit", "version": "0.1.0"}),
        "name": "my_first_flux_lora_v1",
        "training_info": json.dumps({"step": 1000, "epoch": 0}),
        "sshs_model_hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    }
    from tests.identify.builders import FLUX_KOHYA_MODULES

    ident = identify(header(kohya_lora(FLUX_KOHYA_MODULES), metadata=meta))
    assert (ident.base, ident.metadata["title"]) == ("flux", "my_first_flux_lora_v1")


def test_onetrainer_omi_metadata():
    meta = {
        "ot_branch": "omi_format",
        "modelspec.sai_model_spec": "1.0.0",
        "modelspec.architecture": "stable-diffusion-xl-v1-base/lora",
    }
    assert (lora(meta).base, lora(meta).confidence) == ("sdxl", "high")
