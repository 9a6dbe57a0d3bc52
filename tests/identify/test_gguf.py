"""GGUF files as ComfyUI-GGUF and llama.cpp write them: identified like their safetensors
originals, with the quantisation as their precision."""

from __future__ import annotations

import math
from pathlib import Path

import gguf
import pytest

from pantry.formats import read_header
from pantry.formats.header import TensorInfo
from pantry.identify import identify
from pantry.identify.stats import weight_stats
from tests.fixtures.modelfiles import layout
from tests.formats.test_gguf import write_sparse_gguf

UNET_PREFIX = "model.diffusion_model."
# ComfyUI-GGUF's converter keeps 1-D tensors and tensors this small in F32.
SMALL_TENSOR = 1024


def quantised_like_comfy_gguf(
    tensors: dict[str, tuple[str, tuple[int, ...]]], qtype: str, flatten: bool = False
) -> tuple[dict[str, tuple[str, tuple[int, ...]]], dict[str, list[int]]]:
    """What ComfyUI-GGUF's convert + quantize steps store: ({name: (type, stored shape)},
    the ``comfy.gguf.orig_shape.*`` metadata). ``flatten``: its SD1/SDXL reshape of tensors whose
    rows cannot be block-quantised into rows of 256; rows that still do not fit stay F16."""
    block = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[qtype]][0]
    stored: dict[str, tuple[str, tuple[int, ...]]] = {}
    orig_shapes: dict[str, list[int]] = {}
    for name, (_, shape) in tensors.items():
        numel = math.prod(shape)
        if len(shape) <= 1 or numel <= SMALL_TENSOR:
            stored[name] = ("F32", shape)
            continue
        if flatten and numel % 256 == 0 and shape[-1] % 256:
            orig_shapes[f"comfy.gguf.orig_shape.{name}"] = list(shape)
            shape = (numel // 256, 256)
        stored[name] = (qtype if shape[-1] % block == 0 else "F16", shape)
    return stored, orig_shapes


def _params(tensors: dict[str, tuple[str, tuple[int, ...]]]) -> int:
    return sum(math.prod(shape) for _, shape in tensors.values())


def test_flux_dev_unet_gguf_is_a_flux_dev_diffusion_model(tmp_path: Path) -> None:
    original = layout("flux_dev_transformer")
    stored, _ = quantised_like_comfy_gguf(original, "Q4_K")
    path = write_sparse_gguf(tmp_path / "flux1-dev-Q4_K_S.gguf", stored, arch="flux")
    ident = identify(read_header(path))
    assert (ident.format, ident.kind, ident.base, ident.edition) == (
        "gguf",
        "diffusion_model",
        "flux",
        "dev",
    )
    assert ident.precision == "q4_k"
    assert ident.params == _params(original)


def test_flux_schnell_gguf_keeps_its_edition(tmp_path: Path) -> None:
    stored, _ = quantised_like_comfy_gguf(layout("flux_schnell_transformer"), "Q8_0")
    path = write_sparse_gguf(tmp_path / "flux1-schnell-Q8_0.gguf", stored, arch="flux")
    ident = identify(read_header(path))
    assert (ident.base, ident.edition, ident.precision) == ("flux", "schnell", "q8_0")


def test_sdxl_unet_gguf_with_flattened_convs_is_an_sdxl_diffusion_model(tmp_path: Path) -> None:
    unet = {
        name.removeprefix(UNET_PREFIX): entry
        for name, entry in layout("sdxl_base_checkpoint").items()
        if name.startswith(UNET_PREFIX)
    }
    stored, orig_shapes = quantised_like_comfy_gguf(unet, "Q5_K", flatten=True)
    assert orig_shapes  # the convs really were stored flattened
    path = write_sparse_gguf(
        tmp_path / "sd_xl_base_1.0-Q5_K_M.gguf", stored, arch="sdxl", metadata=orig_shapes
    )
    header = read_header(path)
    assert header.tensors["input_blocks.0.0.weight"].shape == (320, 4, 3, 3)
    ident = identify(header)
    assert (ident.kind, ident.base) == ("diffusion_model", "sdxl")
    assert ident.precision == "q5_k"
    assert ident.params == _params(unet)


def test_t5_encoder_gguf_with_llama_cpp_names_is_a_t5_text_encoder(tmp_path: Path) -> None:
    original = layout("t5xxl_text_encoder")
    blocks = 1 + max(int(n.split(".")[2]) for n in original if n.startswith("encoder.block."))
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.T5ENCODER, blocks)
    renamed = {name_map.get_name(n, try_suffixes=(".weight",)): e for n, e in original.items()}
    stored, _ = quantised_like_comfy_gguf(renamed, "Q8_0")
    path = write_sparse_gguf(tmp_path / "t5-v1_1-xxl-encoder-Q8_0.gguf", stored, arch="t5encoder")
    ident = identify(read_header(path))
    assert (ident.kind, ident.base) == ("text_encoder", "unknown")
    assert ident.precision == "q8_0"
    assert ident.params == _params(original)


# --- precision of quantised files ---------------------------------------------------------------


def _stats(*tensors: tuple[str, tuple[int, ...], int]) -> tuple[str, int]:
    """weight_stats over ``count`` tensors of each (dtype, shape)."""
    return weight_stats([TensorInfo(d, s) for d, s, count in tensors for _ in range(count)])


def test_k_quant_mix_is_named_by_its_main_quantisation() -> None:
    # Q4_K_M: most layers Q4_K, some Q6_K, norms and biases in F32, the input layer in F16.
    precision, params = _stats(
        ("Q4_K", (3072, 3072), 60),
        ("Q6_K", (3072, 3072), 30),
        ("F32", (3072,), 200),
        ("F16", (3072, 64), 1),
    )
    assert precision == "q4_k"
    assert params == 90 * 3072 * 3072 + 200 * 3072 + 3072 * 64


@pytest.mark.parametrize(("dtype", "precision"), [("IQ2_XXS", "iq2_xxs"), ("Q3_K", "q3_k")])
def test_each_quantisation_has_its_own_precision(dtype: str, precision: str) -> None:
    assert _stats((dtype, (256, 256), 4))[0] == precision


def test_a_few_quantised_layers_in_a_float_file_make_it_mixed() -> None:
    assert _stats(("F16", (1024, 1024), 7), ("Q8_0", (1024, 1024), 3))[0] == "mixed"


def test_float_files_are_unchanged_by_quantised_types() -> None:
    assert _stats(("BF16", (1024, 1024), 50), ("F32", (1024,), 50))[0] == "bf16"


def _flux_gguf_header(tmp_path, architecture):
    from pantry.formats.header import Header

    tensors = {k: TensorInfo("Q8_0", s) for k, (_, s) in layout("flux_dev_transformer").items()}
    metadata = {"general.architecture": architecture}
    return Header(tmp_path / "flux.gguf", "gguf", 1 << 30, tensors=tensors, metadata=metadata)


def test_gguf_architecture_is_evidence_that_agrees_with_the_structure(tmp_path):
    ident = identify(_flux_gguf_header(tmp_path, "flux"))
    assert (ident.base, ident.confidence) == ("flux", "high")
    assert any("general.architecture" in e.fact for e in ident.evidence)


def test_gguf_architecture_never_overrules_the_structure(tmp_path):
    ident = identify(_flux_gguf_header(tmp_path, "sdxl"))
    assert ident.base == "flux"
    assert ident.confidence != "high"
