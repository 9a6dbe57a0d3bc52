"""keymap's names must be exactly what diffusers' own single-file converters read back."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")
transformers = pytest.importorskip("transformers")

from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: E402
from diffusers.loaders import single_file_utils as sfu  # noqa: E402

from pantry.identify import keymap  # noqa: E402
from pantry.identify.coverage import ldm_unet_shape  # noqa: E402
from tests.fixtures import build_layouts as real  # noqa: E402
from tests.fixtures.modelfiles import layout  # noqa: E402

UNET_CONFIGS = {
    "sd15": real.SD15_UNET,
    "sd21": real.SD21_UNET,
    "sdxl": real.SDXL_UNET,
    "sdxl_refiner": real.SDXL_REFINER_UNET,
    # A tiny 2-level UNet like the renderer's test models, attention only at the bottom.
    "tiny": {
        "block_out_channels": [32, 64],
        "layers_per_block": 1,
        "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
        "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
        "cross_attention_dim": 32,
        "norm_num_groups": 8,
        "sample_size": 8,
    },
}


def meta_state(model_factory):
    with torch.device("meta"):
        return model_factory().state_dict()


@pytest.mark.parametrize("name", sorted(UNET_CONFIGS))
def test_unet_original_names_convert_back_to_the_same_diffusers_names(name):
    config = UNET_CONFIGS[name]
    state = meta_state(lambda: UNet2DConditionModel(**config))
    names = keymap.unet_diffusers_to_original(state, config)
    ldm = {"model.diffusion_model." + names[k]: v for k, v in state.items()}
    back = sfu.convert_ldm_unet_checkpoint(ldm, config)
    assert {k: v.shape for k, v in back.items()} == {k: v.shape for k, v in state.items()}


@pytest.mark.parametrize("name", sorted(UNET_CONFIGS))
def test_unet_names_round_trip_through_the_original_layout(name):
    config = UNET_CONFIGS[name]
    state = meta_state(lambda: UNet2DConditionModel(**config))
    for key in state:
        assert keymap.unet_to_diffusers(keymap.unet_to_original(key, config), config) == key


def test_unet_block_positions_follow_the_ldm_numbering():
    config = real.SDXL_UNET
    assert keymap.unet_to_original("down_blocks.1.attentions.0", config) == "input_blocks.4.1"
    assert keymap.unet_to_original("down_blocks.0.downsamplers.0.conv", config) == (
        "input_blocks.3.0.op"
    )
    assert keymap.unet_to_original("up_blocks.0.upsamplers.0.conv.weight", config) == (
        "output_blocks.2.2.conv.weight"
    )
    assert keymap.unet_to_original("add_embedding.linear_1.weight", config) == (
        "label_emb.0.0.weight"
    )
    assert keymap.unet_to_diffusers("no_such_block.0.weight", config) is None


@pytest.mark.parametrize("config", [real.SD15_VAE, real.FLUX_VAE])
def test_vae_original_names_convert_back_to_the_same_diffusers_names(config):
    state = meta_state(lambda: AutoencoderKL(**config))
    names = keymap.vae_diffusers_to_original(state, config)
    ldm = {
        "first_stage_model." + names[k]: torch.empty(
            keymap.vae_original_shape(names[k], tuple(v.shape)), device="meta"
        )
        for k, v in state.items()
    }
    assert ldm["first_stage_model.decoder.mid.attn_1.q.weight"].shape == (512, 512, 1, 1)
    back = sfu.convert_ldm_vae_checkpoint(ldm, config)
    assert {k: v.shape for k, v in back.items()} == {k: v.shape for k, v in state.items()}


def test_clip_l_keeps_text_model_under_the_checkpoint_prefix():
    names = keymap.clip_diffusers_to_original(
        ["encoder.layers.0.self_attn.q_proj.weight", "text_model.final_layer_norm.bias"]
    )
    assert names == {
        "encoder.layers.0.self_attn.q_proj.weight": (
            "cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight"
        ),
        "text_model.final_layer_norm.bias": (
            "cond_stage_model.transformer.text_model.final_layer_norm.bias"
        ),
    }


def test_openclip_fuses_qkv_and_diffusers_splits_it_back():
    config = transformers.CLIPTextConfig(**(real.OPENCLIP_BIGG | {"num_hidden_layers": 2}))
    with torch.device("meta"):
        model = transformers.CLIPTextModelWithProjection(config)
    prefix = "conditioner.embedders.1.model."
    hf = {keymap.with_text_model(k): v for k, v in model.state_dict().items()}
    ldm = {}
    for name, tensor in hf.items():
        original = prefix + keymap.openclip_to_original(name)
        shape = list(tensor.shape)
        if original.endswith("in_proj_weight") or original.endswith("in_proj_bias"):
            shape[0] *= 3
        if original.endswith("text_projection"):
            shape = shape[::-1]
        ldm[original] = torch.empty(shape, device="meta")
    back = sfu.convert_open_clip_checkpoint(model, ldm, prefix)
    expected = {k: v.shape for k, v in hf.items() if "position_ids" not in k}
    assert {k: v.shape for k, v in back.items()} == expected
    assert keymap.openclip_to_diffusers("transformer.resblocks.3.attn.in_proj_weight") == [
        "encoder.layers.3.self_attn.q_proj.weight",
        "encoder.layers.3.self_attn.k_proj.weight",
        "encoder.layers.3.self_attn.v_proj.weight",
    ]


def test_flux_diffusers_modules_fold_into_bfl_linears():
    assert keymap.flux_diffusers_to_bfl("transformer_blocks.3.attn.to_k") == (
        "double_blocks.3.img_attn.qkv"
    )
    assert keymap.flux_diffusers_to_bfl("single_transformer_blocks.7.proj_mlp") == (
        "single_blocks.7.linear1"
    )
    assert keymap.flux_diffusers_to_bfl("time_text_embed.guidance_embedder.linear_1") == (
        "guidance_in.in_layer"
    )
    assert keymap.flux_diffusers_to_bfl("pos_embed") is None


@pytest.mark.parametrize(
    ("layout_name", "config"),
    [
        ("sd15_checkpoint", real.SD15_UNET),
        ("sdxl_base_checkpoint", real.SDXL_UNET),
        ("sdxl_refiner_checkpoint", real.SDXL_REFINER_UNET),
    ],
)
def test_unet_shape_is_read_back_from_original_names(layout_name, config):
    prefix = "model.diffusion_model."
    names = [k[len(prefix) :] for k in layout(layout_name) if k.startswith(prefix)]
    shape = ldm_unet_shape(names)
    assert shape["layers_per_block"] == config["layers_per_block"]
    assert shape["down_block_types"] == config["down_block_types"]
    assert shape["up_block_types"] == config["up_block_types"]
