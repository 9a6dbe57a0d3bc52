"""Embedded metadata: normalised fields, garbage values, trigger words, lineage, style."""

import json

from pantry.identify import identify
from tests.identify.builders import (
    SD1_KOHYA_MODULES,
    SDXL_KOHYA_MODULES,
    header,
    kohya_lora,
    sdxl_checkpoint,
)


def lora(metadata, modules=SDXL_KOHYA_MODULES, name="model.safetensors"):
    return identify(header(kohya_lora(modules), metadata=metadata, name=name))


def test_kohya_fields_are_normalised():
    ident = lora(
        {
            "ss_output_name": "myChar",
            "ss_sd_model_name": "sd_xl_base_1.0.safetensors",
            "ss_new_sd_model_hash": "0x31E35C80FC",
            "ss_clip_skip": "2",
            "ss_resolution": "(1024, 1024)",
            "ss_network_module": "networks.lora",
        }
    )
    meta = ident.metadata
    assert meta["title"] == "myChar"
    assert meta["training_base"] == "sd_xl_base_1.0.safetensors"
    assert meta["training_base_hash"] == "31e35c80fc"
    assert meta["clip_skip"] == 2
    assert meta["resolution"] == "1024x1024"
    assert meta["network_module"] == "networks.lora"


def test_modelspec_title_wins_and_architecture_aliases_normalise():
    ident = lora(
        {
            "modelspec.title": "Nice",
            "ss_output_name": "x",
            "modelspec.architecture": "Stable-Diffusion-XL-v1-Base/LoRA",
        }
    )
    assert ident.metadata["title"] == "Nice"
    assert ident.metadata["architecture"] == "stable-diffusion-xl-v1-base/lora"
    assert ident.confidence == "high"


def test_flux_omi_architecture_spelling():
    from tests.identify.builders import FLUX_KOHYA_MODULES

    ident = lora({"modelspec.architecture": "Flux.1-dev/lora"}, FLUX_KOHYA_MODULES)
    assert (ident.base, ident.edition, ident.confidence) == ("flux", "dev", "high")


def test_garbage_metadata_values_become_warnings_not_exceptions():
    ident = lora(
        {
            "ss_clip_skip": "two",
            "ss_tag_frequency": "{not json",
            "ss_network_args": "[1, 2]",
            "ss_network_alpha": "lots",
            "ss_resolution": "big",
            "modelspec.architecture": "\x00\x01???",
        }
    )
    assert ident.kind == "lora"
    assert ident.base == "sdxl"
    assert "clip_skip" not in ident.metadata
    joined = " ".join(ident.warnings)
    for key in ("ss_clip_skip", "ss_tag_frequency", "ss_network_args", "ss_network_alpha"):
        assert key in joined


def test_trigger_words_are_frequent_but_not_generic_tags():
    tags = {"img": {"zkchar": 40, "1girl": 40, "solo": 38, "smile": 30, "hat": 5, "zkoutfit": 22}}
    ident = lora({"ss_tag_frequency": json.dumps(tags), "ss_num_train_images": "40"})
    assert ident.metadata["trigger_words"] == ["zkchar", "zkoutfit"]
    assert ident.metadata["tag_frequency"][0] == ["zkchar", 40]
    assert len(ident.metadata["tag_frequency"]) == 6


def test_declared_trigger_phrase_wins_over_tags():
    tags = {"img": {"foo": 10}}
    ident = lora({"ss_tag_frequency": json.dumps(tags), "modelspec.trigger_phrase": "abc, def"})
    assert ident.metadata["trigger_words"] == ["abc", "def"]


def test_dataset_folder_name_is_the_trigger_without_captions():
    ident = lora({"ss_dataset_dirs": json.dumps({"10_ohwx woman": {"n_repeats": 10}})})
    assert ident.metadata["trigger_words"] == ["ohwx woman"]


def test_lineage_from_training_base_name_only():
    ident = lora({"ss_sd_model_name": "ponyDiffusionV6XL_v6StartWithThisOne.safetensors"})
    assert ident.lineage == "pony"
    assert any(e.about == "lineage" and e.source == "metadata" for e in ident.evidence)
    assert ident.style.value == "anime"
    assert ident.style.source == "lineage"


def test_noobai_checked_before_illustrious():
    ident = lora({"ss_sd_model_name": "noobaiXLNAIXL_vPred10Version_illustrious.safetensors"})
    assert ident.lineage == "noobai"


def test_lineage_never_from_structure_or_file_name():
    assert identify(sdxl_checkpoint(name="ponyDiffusionV6XL.safetensors")).lineage is None


def test_sdxl_lineage_in_an_sd1_lora_is_ignored_with_a_warning():
    ident = lora({"ss_sd_model_name": "illustriousXL.safetensors"}, SD1_KOHYA_MODULES)
    assert ident.base == "sd1"
    assert ident.lineage is None
    assert any("illustrious" in w for w in ident.warnings)


def test_lineage_from_a_known_training_base_hash():
    pony = "67ab2fd8ec439a89b3fedb15cc65f54336af163c7eb5e4f2acc98f090a29b0b3"
    ident = lora({"ss_new_sd_model_hash": pony})
    assert ident.lineage == "pony"
    assert any(e.source == "hash" for e in ident.evidence)


def test_style_from_training_tags_then_name():
    photo = {"img": {"photo": 30, "realistic": 30, "raw photo": 10, "1girl": 5}}
    assert lora({"ss_tag_frequency": json.dumps(photo)}).style.value == "photoreal"
    named = lora({}, name="animeLineart_v2.safetensors")
    assert (named.style.value, named.style.source) == ("anime", "name")


def test_metadata_style_outranks_training_tags():
    tags = {"img": {"1girl": 30}}
    ident = lora(
        {"ss_tag_frequency": json.dumps(tags), "modelspec.tags": "photorealistic, portrait"}
    )
    assert (ident.style.value, ident.style.source) == ("photoreal", "metadata")


def test_no_style_claim_when_words_disagree():
    assert lora({"modelspec.description": "anime and photo styles"}).style is None
