"""Infotext as the many writers in the wild produce it: A1111 versions, Forge, SD.Next,
ComfyUI savers, Civitai, Fooocus, SwarmUI, InvokeAI and NovelAI. Texts are composed in each
writer's style (keys, order, quoting) from reading that writer's code."""

from __future__ import annotations

import json

import pytest

from pantry.errors import RecipeError
from pantry.recipes.infotext import parse_infotext
from pantry.recipes.model import LoraSpec, Recipe
from pantry.recipes.resolve import parse_name_hashes


def _parse(text: str):
    return parse_infotext(text)


def _recipe(text: str) -> Recipe:
    return parse_infotext(text).recipe


# --- A1111 and Forge ---------------------------------------------------------------------

A1111_ADETAILER_CONTROLNET = """\
(masterpiece:1.2), 1girl, red kimono, night festival, lanterns, <lora:kimono_v2:0.65>, \
<lora:detail_slider:-0.5>
Negative prompt: EasyNegative, (worst quality:1.4),
lowres, watermark
Steps: 30, Sampler: DPM++ 2M, Schedule type: Automatic, CFG scale: 6.5, Seed: 3735928559, \
Size: 832x1216, Model hash: 6ce0161689, Model: meinamix_v11, Denoising strength: 0.35, \
Clip skip: 2, ENSD: 31337, RNG: CPU, \
ADetailer model: face_yolov8n.pt, ADetailer prompt: "smiling, detailed eyes", \
ADetailer confidence: 0.3, ADetailer version: 24.9.0, \
ControlNet 0: "Module: openpose_full, Model: control_v11p_sd15_openpose [cab727d4], \
Weight: 1.0, Resize Mode: Crop and Resize, Guidance Start: 0.0, Guidance End: 1.0", \
Hires upscale: 1.5, Hires upscaler: 4x-UltraSharp, \
Lora hashes: "kimono_v2: 0f1e2d3c4b5a, detail_slider: 9a8b7c6d5e4f", \
TI hashes: "EasyNegative: c74b4e810b03", Emphasis: Original, Version: v1.10.1"""


def test_a1111_with_adetailer_and_controlnet_reads_every_field():
    parsed = _parse(A1111_ADETAILER_CONTROLNET)
    recipe = parsed.recipe
    assert recipe.negative_prompt == "EasyNegative, (worst quality:1.4),\nlowres, watermark"
    assert (recipe.steps, recipe.cfg_scale, recipe.seed) == (30, 6.5, 3735928559)
    assert (recipe.width, recipe.height, recipe.clip_skip) == (832, 1216, 2)
    assert recipe.checkpoint == "meinamix_v11"
    assert recipe.extra["ADetailer prompt"] == "smiling, detailed eyes"
    assert recipe.extra["ControlNet 0"].startswith("Module: openpose_full, Model: control_v11p")
    assert recipe.extra["ControlNet 0"].endswith("Guidance End: 1.0")
    assert recipe.extra["RNG"] == "CPU" and recipe.extra["ENSD"] == "31337"
    assert [(s.ref, s.weight) for s in recipe.all_loras()] == [
        ("kimono_v2", 0.65),
        ("detail_slider", -0.5),
    ]
    assert parse_name_hashes(recipe.extra["Lora hashes"]) == {
        "kimono_v2": "0f1e2d3c4b5a",
        "detail_slider": "9a8b7c6d5e4f",
    }
    assert parsed.report.notes == []


def test_schedule_type_automatic_means_the_samplers_own_schedule():
    # A1111 1.9+: DPM++ 2M on "Automatic" runs Karras sigmas, DPM++ 2M SDE exponential.
    assert _recipe(A1111_ADETAILER_CONTROLNET).scheduler == "karras"
    text = "x\nSteps: 20, Sampler: DPM++ 2M SDE, Schedule type: Automatic, CFG scale: 7, Seed: 1"
    assert _recipe(text).scheduler == "exponential"
    text = "x\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1"
    assert _recipe(text).scheduler is None


def test_big_seed_is_read_exactly():
    text = "x\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 18446744073709551557"
    assert _recipe(text).seed == 18446744073709551557


@pytest.mark.parametrize(
    ("label", "sampler", "scheduler"),
    [
        ("DPM++ 3M SDE Karras", "DPM++ 3M SDE", "karras"),
        ("DPM++ SDE Karras", "DPM++ SDE", "karras"),
        ("DPM++ 2M SDE Heun Exponential", "DPM++ 2M SDE Heun", "exponential"),
        ("Restart", "Restart", None),
        ("Euler SGM Uniform", "Euler", "sgm_uniform"),
        ("DPM++ 2M Align Your Steps GITS", "DPM++ 2M", "align_your_steps_gits"),
        ("euler a", "Euler a", None),
        ("k_euler_ancestral", "Euler a", None),
        ("k_dpmpp_2m", "DPM++ 2M", None),
        ("dpmpp_2m_sde_gpu", "DPM++ 2M SDE", None),
        ("dpmpp_2m_sde_karras", "DPM++ 2M SDE", "karras"),
        ("dpmpp_2m_k", "DPM++ 2M", "karras"),  # InvokeAI
        ("IPNDM", "IPNDM", None),
        ("[Forge] Flux Realistic", "[Forge] Flux Realistic", None),
    ],
)
def test_sampler_spellings_of_every_writer(label, sampler, scheduler):
    recipe = _recipe(f"cat\nSteps: 20, Sampler: {label}, CFG scale: 7, Seed: 1, Size: 512x512")
    assert (recipe.sampler, recipe.scheduler) == (sampler, scheduler)


FORGE_FLUX = """\
a watercolor fox reading a book under a tree
Steps: 20, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Distilled CFG Scale: 3.5, \
Seed: 1337, Size: 896x1152, Model hash: 275ef623d3, Model: flux1-dev-bnb-nf4-v2, \
Lora hashes: "fox_style: 1a2b3c4d5e6f", Version: f2.0.1v1.10.1-previous-633-ge073e4ec, \
Diffusion in Low Bits: Automatic (fp16 LoRA), Module 1: ae, Module 2: clip_l, \
Module 3: t5xxl_fp16"""


def test_forge_flux_modules_give_the_vae_and_keep_the_text_encoders():
    recipe = _recipe(FORGE_FLUX)
    assert recipe.vae == "ae"
    assert (recipe.extra["Module 2"], recipe.extra["Module 3"]) == ("clip_l", "t5xxl_fp16")
    assert recipe.extra["Distilled CFG Scale"] == "3.5"
    assert recipe.extra["Diffusion in Low Bits"] == "Automatic (fp16 LoRA)"
    assert (recipe.sampler, recipe.scheduler) == ("Euler", "simple")


def test_forge_module_vae_is_not_written_as_a_vae_key():
    # Forge reads a "VAE" key instead of the modules, which would drop the text encoders.
    from pantry.recipes.infotext import write_infotext

    line = write_infotext(_recipe(FORGE_FLUX)).splitlines()[-1]
    assert "VAE:" not in line and "Module 1: ae" in line


OLD_HIRES = """\
castle on a cliff
Steps: 25, Sampler: Euler a, CFG scale: 7, Seed: 10, Size: 1024x1024, Model hash: 925997e9, \
Denoising strength: 0.7, First pass size: 0x0"""


def test_old_a1111_hires_fix_renders_the_first_pass_smaller():
    recipe = _recipe(OLD_HIRES)
    assert (recipe.width, recipe.height) == (512, 512)
    assert recipe.extra["Hires resize"] == "1024x1024"
    assert recipe.checkpoint == "925997e9"  # legacy 8-hex hash, no model name yet


def test_old_a1111_first_pass_size_given():
    text = OLD_HIRES.replace("First pass size: 0x0", "First pass size: 640x384")
    assert (_recipe(text).width, _recipe(text).height) == (640, 384)


# --- Civitai and ComfyUI savers ------------------------------------------------------------

CIVITAI_HASHES = """\
score_9, score_8_up, 1girl, solo, beach, sunset, embedding:ziprealism
Negative prompt: score_4, lowres, negativeXL_D
Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6, Seed: 771, Size: 832x1216, Clip skip: 2, \
Model hash: 67ab2fd8ec, Model: ponyDiffusionV6XL, \
Hashes: {"model": "67ab2fd8ec", "vae": "735e4c3a44", "lora:beach_life": "a1b2c3d4e5f6", \
"embed:negativeXL_D": "fff5d51ab6"}, \
Civitai resources: [{"type":"checkpoint","modelVersionId":290640}], Version: ComfyUI"""


def test_unquoted_hashes_json_is_read_whole_and_feeds_the_resolver_keys():
    recipe = _recipe(CIVITAI_HASHES)
    assert json.loads(recipe.extra["Hashes"])["lora:beach_life"] == "a1b2c3d4e5f6"
    assert recipe.extra["VAE hash"] == "735e4c3a44"
    assert recipe.extra["Lora hashes"] == "beach_life: a1b2c3d4e5f6"
    assert recipe.extra["TI hashes"] == "negativeXL_D: fff5d51ab6"
    assert json.loads(recipe.extra["Civitai resources"]) == [
        {"type": "checkpoint", "modelVersionId": 290640}
    ]
    assert recipe.extra["Version"] == "ComfyUI"
    assert not any(key.startswith('"') for key in recipe.extra)


def test_text_that_only_starts_like_json_is_an_ordinary_value():
    text = "x\nSteps: 20, Sampler: Euler, CFG scale: 7, Note: [1] of 3, Seed: 2"
    recipe = _recipe(text)
    assert recipe.extra["Note"] == "[1] of 3" and recipe.seed == 2


def test_civitai_undefined_sampler_is_noted_and_kept():
    parsed = _parse("x\nSteps: 20, Sampler: Undefined, CFG scale: 3.5, Seed: 1, Size: 512x512")
    assert parsed.recipe.sampler == "Euler a"
    assert parsed.recipe.extra["Sampler"] == "Undefined"
    assert any("Undefined" in note for note in parsed.report.notes)


SWARM_CONVERTED = """\
1girl, library, reading
Negative prompt: bad hands
Steps: 30, Sampler: Euler a, CFG scale: 5, Seed: 88, Size: 896x1152, \
Model hash: 86d99a344203, Model: illustrious/DaSiWa-Illustrious-XL-0-4.safetensors, \
Lora hashes: "748cmSDXL: a4f81ec6c80b, USNR STYLE_XL_lokr: 74988f37b9f2", aspectratio: 3:4, \
automaticvae: True"""


def test_model_given_as_a_path_with_extension_names_the_file_stem():
    recipe = _recipe(SWARM_CONVERTED)
    assert recipe.checkpoint == "DaSiWa-Illustrious-XL-0-4"
    assert recipe.extra["Model"] == "illustrious/DaSiWa-Illustrious-XL-0-4.safetensors"
    assert recipe.extra["aspectratio"] == "3:4"
    assert parse_name_hashes(recipe.extra["Lora hashes"])["USNR STYLE_XL_lokr"] == "74988f37b9f2"


def test_windows_paths_and_bracketed_hashes_in_model_names():
    text = "x\nSteps: 20, Sampler: Euler, CFG scale: 7, Model: SDXL\\juggernautXL_v9 [c9e3e68f89]"
    recipe = _recipe(text)
    assert recipe.checkpoint == "juggernautXL_v9"
    assert recipe.extra["Model hash"] == "c9e3e68f89"


# --- SD.Next ------------------------------------------------------------------------------

SDNEXT = """\
photo of a red vintage car in the rain, <lora:film_grain:0.8>
Negative prompt:\x20
Steps: 24, Size: 1024x1024, Sampler: DPM++ 2M, Seed: 42, CFG scale: 6, Model: juggernautXL_v9, \
Model hash: c9e3e68f89, App: SD.Next, Version: 9e9a7c1, Operations: txt2img, \
LoRA networks: film_grain, LoRA hashes: 3e2d1c0b9a8f, Sampler sigma: karras, VAE: TAESD"""


def test_sdnext_lora_hashes_are_paired_with_their_names():
    recipe = _recipe(SDNEXT)
    assert recipe.negative_prompt == ""
    assert recipe.extra["Lora hashes"] == "film_grain: 3e2d1c0b9a8f"
    assert recipe.extra["App"] == "SD.Next"


def test_vae_values_that_name_no_file_stay_in_extra_and_are_written_back():
    from pantry.recipes.infotext import write_infotext

    recipe = _recipe(SDNEXT)
    assert recipe.vae is None
    assert recipe.extra["VAE"] == "TAESD"
    assert "VAE: TAESD" in write_infotext(recipe)


# --- Fooocus -------------------------------------------------------------------------------

FOOOCUS_A1111 = """\
a cozy reading nook, warm light, highly detailed, cinematic
Negative prompt: unrealistic, saturated, high contrast
Steps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 1234567, Size: 1152x896, CFG scale: 4, \
Sharpness: 2, ADM Guidance: "(1.5, 0.8, 0.3)", Model: juggernautXL_v8Rundiffusion, \
Model hash: aeb7e9e6897a1e58b10494bd989d001e3d4bc9b634633cd7b559838f612c2867, \
Performance: Speed, Scheduler: karras, VAE: Default (model), Raw prompt: a cozy reading nook, \
Lora hashes: "sd_xl_offset_example-lora_1.0: \
4852686128f953d0277d0793e2f0335352f96a919c9c16a09787d77f55cbdf6f", \
Lora weights: "sd_xl_offset_example-lora_1.0: 0.1", Version: Fooocus v2.5.5"""


def test_fooocus_a1111_scheme_loras_come_from_lora_weights():
    recipe = _recipe(FOOOCUS_A1111)
    assert recipe.loras == [LoraSpec("sd_xl_offset_example-lora_1.0", 0.1)]
    assert (recipe.sampler, recipe.scheduler) == ("DPM++ 2M SDE", "karras")
    assert recipe.vae is None and recipe.extra["VAE"] == "Default (model)"
    assert recipe.extra["ADM Guidance"] == "(1.5, 0.8, 0.3)"


FOOOCUS_JSON = {
    "adm_guidance": "(1.5, 0.8, 0.3)",
    "base_model": "juggernautXL_v8Rundiffusion",
    "base_model_hash": "aeb7e9e6897a1e58b10494bd989d001e3d4bc9b634633cd7b559838f612c2867",
    "clip_skip": 2,
    "full_negative_prompt": ["unrealistic", "saturated"],
    "full_prompt": ["a cozy reading nook", "warm light, cinematic"],
    "guidance_scale": 4,
    "loras": [["sd_xl_offset_example-lora_1.0", 0.1, "4852686128f953d0"]],
    "negative_prompt": "",
    "performance": "Speed",
    "prompt": "a cozy reading nook",
    "resolution": "(1152, 896)",
    "sampler": "dpmpp_2m_sde_gpu",
    "scheduler": "karras",
    "seed": "1234567",
    "sharpness": 2,
    "steps": 30,
    "styles": "['Fooocus V2', 'Fooocus Enhance']",
    "vae": "Default (model)",
    "version": "Fooocus v2.5.5",
}


def test_fooocus_json_metadata_pasted_as_text():
    recipe = _recipe(json.dumps(FOOOCUS_JSON))
    assert recipe.prompt == "a cozy reading nook, warm light, cinematic"
    assert recipe.negative_prompt == "unrealistic, saturated"
    assert (recipe.width, recipe.height, recipe.steps, recipe.seed) == (1152, 896, 30, 1234567)
    assert (recipe.sampler, recipe.scheduler, recipe.cfg_scale) == ("DPM++ 2M SDE", "karras", 4.0)
    assert recipe.checkpoint == "juggernautXL_v8Rundiffusion"
    assert recipe.extra["Model hash"].startswith("aeb7e9e6")
    assert recipe.loras == [LoraSpec("sd_xl_offset_example-lora_1.0", 0.1)]
    assert recipe.extra["styles"] == "['Fooocus V2', 'Fooocus Enhance']"
    assert recipe.vae is None and recipe.clip_skip == 2


# --- SwarmUI, InvokeAI, NovelAI JSON -------------------------------------------------------

SWARM_JSON = {
    "sui_image_params": {
        "prompt": "a lighthouse at dusk",
        "negativeprompt": "blurry",
        "model": "sdxl/juggernautXL_v9",
        "seed": 99,
        "steps": 32,
        "cfgscale": 5.5,
        "width": 1024,
        "height": 1024,
        "sampler": "dpmpp_2m",
        "scheduler": "karras",
        "clipstopatlayer": -2,
        "loras": ["styles/film_grain"],
        "loraweights": ["0.6"],
        "swarm_version": "0.9.2.1",
    },
    "sui_models": [
        {"name": "sdxl/juggernautXL_v9.safetensors", "param": "model", "hash": "0xc9e3e68f89"},
        {"name": "styles/film_grain.safetensors", "param": "loras", "hash": "0x3e2d1c0b9a8f"},
    ],
}


def test_swarmui_json():
    recipe = _recipe(json.dumps(SWARM_JSON))
    assert recipe.prompt == "a lighthouse at dusk, <lora:film_grain:0.6>"
    assert (recipe.sampler, recipe.scheduler, recipe.clip_skip) == ("DPM++ 2M", "karras", 2)
    assert recipe.checkpoint == "juggernautXL_v9"
    assert recipe.extra["Model hash"] == "c9e3e68f89"
    assert recipe.extra["Lora hashes"] == "film_grain: 3e2d1c0b9a8f"


INVOKE_JSON = {
    "generation_mode": "sdxl_txt2img",
    "positive_prompt": "a cabin in the snow",
    "negative_prompt": "people",
    "width": 1024,
    "height": 768,
    "seed": 3141,
    "steps": 30,
    "cfg_scale": 7.5,
    "scheduler": "dpmpp_2m_k",
    "model": {
        "key": "k1",
        "hash": "blake3:" + "ab" * 32,
        "name": "juggernautXL_v9",
        "base": "sdxl",
    },
    "loras": [{"model": {"name": "snow_detail", "hash": "sha256:" + "cd" * 32}, "weight": 0.75}],
    "app_version": "5.6.0",
}


def test_invokeai_metadata_json():
    recipe = _recipe(json.dumps(INVOKE_JSON))
    assert recipe.prompt == "a cabin in the snow, <lora:snow_detail:0.75>"
    assert (recipe.sampler, recipe.scheduler) == ("DPM++ 2M", "karras")
    assert (recipe.width, recipe.height, recipe.cfg_scale) == (1024, 768, 7.5)
    assert recipe.checkpoint == "juggernautXL_v9"
    assert recipe.extra["Model hash"] == "ab" * 32
    assert recipe.extra["Lora hashes"] == "snow_detail: " + "cd" * 32


def test_novelai_comment_json_pasted_as_text():
    comment = {
        "prompt": "1girl, witch hat",
        "steps": 28,
        "height": 1216,
        "width": 832,
        "scale": 5.0,
        "seed": 123,
        "sampler": "k_euler_ancestral",
        "noise_schedule": "karras",
        "uc": "lowres, bad anatomy",
    }
    recipe = _recipe(json.dumps(comment))
    assert (recipe.prompt, recipe.negative_prompt) == ("1girl, witch hat", "lowres, bad anatomy")
    assert (recipe.sampler, recipe.scheduler, recipe.clip_skip) == ("Euler a", "karras", 2)
    assert (recipe.width, recipe.height) == (832, 1216)


def test_comfyui_graph_json_says_what_it_is():
    graph = {"3": {"class_type": "KSampler", "inputs": {"seed": 1}}}
    with pytest.raises(RecipeError, match="ComfyUI workflow graph"):
        parse_infotext(json.dumps(graph), source="wf.json")


def test_unknown_json_is_a_clear_error():
    with pytest.raises(RecipeError, match=r"^x\.json: JSON in no metadata format"):
        parse_infotext('{"hello": 1}', source="x.json")


# --- text shape ----------------------------------------------------------------------------


def test_every_negative_prompt_prefix_is_stripped_like_a1111():
    text = (
        "cat\nNegative prompt: dog\nNegative prompt: bird\n"
        "Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1"
    )
    assert _recipe(text).negative_prompt == "dog\nbird"


def test_trailing_comma_and_spaces_after_the_parameter_line():
    text = "cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Token merging ratio: 0.2,   "
    assert _recipe(text).extra["Token merging ratio"] == "0.2"


def test_size_with_spaces_and_width_height_keys():
    assert _recipe("x\nSteps: 20, Sampler: Euler, Size: 768 x 512, Seed: 1").width == 768
    recipe = _recipe("x\nSteps: 20, Sampler: Euler, Width: 640, Height: 960, Seed: 1")
    assert (recipe.width, recipe.height) == (640, 960)
