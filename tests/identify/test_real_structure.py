"""Structural corner cases of published files: lookalike transformers, quantised and merged
checkpoints, text-encoder-only LoRAs, files that are not image models at all."""

import pytest

from pantry.formats.header import Header
from pantry.identify import identify
from pantry.identify.verdict import BASELESS_KINDS
from tests.fixtures.modelfiles import (
    DIFFUSERS_PIPELINES,
    LAYOUTS,
    header_for,
    layout,
    layout_config,
)
from tests.identify.builders import (
    FLUX_KOHYA_MODULES,
    SD1_KOHYA_MODULES,
    SDXL_KOHYA_MODULES,
    clip_l,
    flux_transformer,
    header,
    kohya_lora,
    peft_lora,
    prefixed,
)


def test_ltx_like_dit_cross_attention_is_not_sdxl():
    # LTX-Video: transformer_blocks.N.attn2.to_k takes 2048 features, like SDXL's context
    modules = {
        f"transformer.transformer_blocks.{i}.attn2.to_k": (2048, 2048) for i in range(28)
    } | {"transformer.transformer_blocks.0.attn1.to_q": (2048, 2048)}
    ident = identify(header(peft_lora(modules)))
    assert (ident.kind, ident.base) == ("lora", "unknown")
    assert ident.reason


def test_wan_like_blocks_at_sd3_medium_width_are_not_sd3():
    modules = {f"transformer.blocks.{i}.attn1.to_q": (1536, 1536) for i in range(30)}
    assert identify(header(peft_lora(modules))).base == "unknown"


def test_qwen_image_lora_at_flux_width_is_unknown_with_the_family_named():
    modules = {f"transformer.transformer_blocks.{i}.attn.to_q": (3072, 3072) for i in range(60)}
    modules |= {"transformer.transformer_blocks.0.img_mlp.net.2": (3072, 12288)}
    ident = identify(header(peft_lora(modules)))
    assert ident.base == "unknown"
    assert "Qwen-Image" in ident.reason


def test_hunyuan_video_lora_with_flux_names_is_told_apart_by_block_count():
    modules = {f"lora_unet_double_blocks_{i}_img_attn_qkv": (9216, 3072) for i in range(20)}
    modules |= {f"lora_unet_single_blocks_{i}_linear1": (21504, 3072) for i in range(40)}
    ident = identify(header(kohya_lora(modules)))
    assert (ident.base, ident.confidence) == ("unknown", "none")
    assert "Flux.1 has only" in ident.reason


def test_full_flux_lora_within_flux_block_counts_is_still_flux():
    modules = {f"lora_unet_double_blocks_{i}_img_attn_qkv": (9216, 3072) for i in range(19)}
    modules |= {f"lora_unet_single_blocks_{i}_linear1": (21504, 3072) for i in range(38)}
    assert identify(header(kohya_lora(modules))).base == "flux"


def test_text_encoder_only_peft_lora_of_clip_l_width_is_ambiguous():
    modules = {
        f"text_encoder.text_model.encoder.layers.{i}.self_attn.q_proj": (768, 768)
        for i in range(12)
    }
    ident = identify(header(peft_lora(modules)))
    assert ident.base == "unknown"
    assert ident.base_candidates == ["sd1", "sdxl", "sd3", "flux"]


def test_kohya_single_text_encoder_prefix_still_means_sd1():
    modules = {"lora_te_text_model_encoder_layers_0_self_attn_q_proj": (768, 768)}
    assert identify(header(kohya_lora(modules))).base == "sd1"


def test_sdxl_lora_with_only_first_encoder_is_a_low_confidence_guess_with_candidates():
    modules = {"lora_te1_text_model_encoder_layers_0_self_attn_q_proj": (768, 768)}
    ident = identify(header(kohya_lora(modules)))
    assert (ident.base, ident.confidence) == ("sdxl", "low")
    assert "sd1" in ident.base_candidates


def test_lcm_lora_with_diffusers_block_names_on_sdxl():
    modules = {
        "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k": (640, 2048),
        "lora_unet_time_embedding_linear_1": (1280, 320),
    }
    ident = identify(header(kohya_lora(modules, rank=64), name="pytorch_lora_weights.safetensors"))
    assert (ident.base, ident.lora.rank) == ("sdxl", 64)


def test_lcm_lora_in_bare_peft_form_on_sd1():
    modules = {"down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k": (320, 768)}
    ident = identify(header(peft_lora(modules, rank=64)))
    assert (ident.base, ident.lora.format) == ("sd1", "diffusers")


@pytest.mark.parametrize(
    ("bundle", "modules", "base"),
    [
        ({"bundle_emb.zkchar.string_to_param.*": (2, 768)}, SD1_KOHYA_MODULES, "sd1"),
        (
            {"bundle_emb.zkchar.clip_l": (2, 768), "bundle_emb.zkchar.clip_g": (2, 1280)},
            SDXL_KOHYA_MODULES,
            "sdxl",
        ),
    ],
)
def test_lora_with_bundled_embeddings_names_them(bundle, modules, base):
    ident = identify(header(kohya_lora(modules), bundle))
    assert (ident.kind, ident.base) == ("lora", base)
    assert ident.metadata["bundled_embeddings"] == ["zkchar"]


def test_bnb_nf4_flux_is_flux_with_nf4_precision_and_no_variant_from_packed_img_in():
    spec = prefixed("model.diffusion_model.", flux_transformer())
    spec["model.diffusion_model.img_in.weight"] = (98304, 1)
    spec["model.diffusion_model.img_in.weight.absmax"] = (1536,)
    spec["model.diffusion_model.img_in.weight.quant_map"] = (16,)
    spec["model.diffusion_model.img_in.weight.quant_state.bitsandbytes__nf4"] = (4,)
    ident = identify(header(spec, dtype="U8"))
    assert (ident.kind, ident.base, ident.edition) == ("diffusion_model", "flux", "dev")
    assert ident.variants == []
    assert ident.precision == "nf4"
    assert any("quantised" in e.fact for e in ident.evidence)


@pytest.mark.parametrize(
    ("name", "dtype", "base"),
    [("sd15_checkpoint", "F8_E4M3", "sd1"), ("sdxl_base_checkpoint", "F8_E5M2", "sdxl")],
)
def test_fp8_checkpoints_keep_their_identity(name, dtype, base):
    ident = identify(header_for(name, dtype=dtype))
    assert (ident.kind, ident.base, ident.precision) == ("checkpoint", base, "fp8")
    assert ident.components["missing"] == []


def test_merged_checkpoint_with_float_position_ids_and_junk_keys():
    tensors = layout("sd15_checkpoint")
    tensors["cond_stage_model.transformer.text_model.embeddings.position_ids"] = ("F32", (1, 77))
    tensors["lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight"] = (
        "F16",
        (4, 768),
    )
    tensors["junk.leftover"] = ("F16", (3,))
    ident = identify(header_for(tensors))
    assert (ident.kind, ident.base, ident.confidence) == ("checkpoint", "sd1", "high")
    assert any("position_ids" in w for w in ident.warnings)


def test_checkpoint_without_position_ids_is_fine():
    tensors = layout("sd15_checkpoint")
    del tensors["cond_stage_model.transformer.text_model.embeddings.position_ids"]
    ident = identify(header_for(tensors))
    assert (ident.kind, ident.base, ident.warnings) == ("checkpoint", "sd1", [])


def test_sd35_large_single_file_with_text_encoders():
    tensors = dict(layout("sd35_large_transformer"))
    for part, layout_name in (
        ("clip_l", "clip_l_text_encoder"),
        ("clip_g", "clip_g_text_encoder"),
        ("t5xxl", "t5xxl_text_encoder"),
    ):
        tensors |= {
            f"text_encoders.{part}.transformer.{k}": v for k, v in layout(layout_name).items()
        }
    tensors |= {f"first_stage_model.{k}": v for k, v in layout("flux_vae").items()}
    ident = identify(header_for(tensors))
    assert (ident.kind, ident.base, ident.edition) == ("checkpoint", "sd3", "3.5_large")
    assert ident.components["missing"] == []
    assert "text_encoder_3" in ident.components["present"]


def test_known_checkpoint_hash_with_other_tensors_gives_no_lineage():
    pony = "67ab2fd8ec439a89b3fedb15cc65f54336af163c7eb5e4f2acc98f090a29b0b3"
    ident = identify(header_for("sd15_checkpoint"), {"sha256": pony})
    assert (ident.base, ident.lineage) == ("sd1", None)
    assert any("Pony" in w for w in ident.warnings)


def test_diffusers_folder_with_configs_only():
    index, _ = DIFFUSERS_PIPELINES["sdxl"]
    configs = {"model_index": index, "unet": layout_config("sdxl_unet_diffusers")}
    folder = Header(path=header_for("sdxl_vae").path.parent, format="diffusers", file_size=0)
    folder.configs = configs
    ident = identify(folder)
    assert (ident.kind, ident.base, ident.confidence) == ("checkpoint", "sdxl", "medium")
    assert "unet" in ident.components["missing"]


LLM = {f"model.layers.{i}.self_attn.q_proj.weight": (4096, 4096) for i in range(32)} | {
    "model.embed_tokens.weight": (32000, 4096),
    "lm_head.weight": (32000, 4096),
}
CLIP_VISION = {
    f"vision_model.encoder.layers.{i}.self_attn.q_proj.weight": (1280, 1280) for i in range(32)
} | {
    "vision_model.embeddings.patch_embedding.weight": (1280, 3, 14, 14),
    "visual_projection.weight": (1024, 1280),
}
WHISPER = {f"model.encoder.layers.{i}.fc1.weight": (5120, 1280) for i in range(32)} | {
    "model.encoder.conv1.weight": (1280, 128, 3),
    "model.decoder.embed_tokens.weight": (51866, 1280),
}


@pytest.mark.parametrize(
    "spec",
    [LLM, CLIP_VISION | clip_l(), WHISPER, {"proj.weight": (768, 1024)}],
    ids=["llm", "full-clip", "whisper", "one-projection"],
)
def test_files_that_are_not_image_model_parts_are_unknown_with_a_reason(spec):
    ident = identify(header(spec))
    assert (ident.kind, ident.base, ident.confidence) == ("unknown", "unknown", "none")
    assert ident.reason


def test_a_lone_clip_vision_tower_is_a_clip_vision_encoder():
    assert identify(header(CLIP_VISION)).kind == "clip_vision"


def test_diffusers_learned_embeds_is_still_an_embedding():
    ident = identify(header({"<cat-toy>": (768,)}))
    assert (ident.kind, ident.base) == ("embedding", "sd1")


def _headers():
    yield from (header_for(name) for name in LAYOUTS)
    yield header(kohya_lora(FLUX_KOHYA_MODULES))
    yield header(LLM)
    yield header(kohya_lora({"lora_unet_conv_in": (320, 4)}))


def test_every_answer_has_evidence_and_every_unknown_a_reason():
    for h in _headers():
        ident = identify(h)
        assert ident.evidence, h.path
        if ident.kind == "unknown" or (
            ident.base == "unknown" and ident.kind not in BASELESS_KINDS
        ):
            assert ident.reason, h.path
