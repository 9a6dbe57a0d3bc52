"""identify answers every well-formed Header, however odd: unknown with a reason, never a crash."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pantry.formats.header import Header, TensorInfo
from pantry.identify import identify
from pantry.identify.taxonomy import Kind

NAME_PARTS = st.sampled_from(
    [
        "model", "diffusion_model", "input_blocks", "0", "1", "4", "attn2", "to_k", "weight",
        "lora_unet", "lora_down", "lora_up", "alpha", "first_stage_model", "decoder", "conv_in",
        "double_blocks", "img_in", "string_to_param", "*", "emb_params", "clip_l", "clip_g",
        "hada_w1_a", "lokr_w1", "lora_A", "lora_B", "transformer", "controlnet_cond_embedding",
    ]
)  # fmt: skip
NAMES = st.lists(NAME_PARTS, min_size=1, max_size=6).map(".".join)
TENSORS = st.builds(
    TensorInfo,
    dtype=st.sampled_from(["F16", "F32", "BF16", "I64", "F8_E4M3", "U8"]),
    shape=st.lists(st.integers(0, 4096), max_size=4).map(tuple),
)
METADATA = st.dictionaries(
    st.sampled_from(
        ["ss_base_model_version", "modelspec.architecture", "ss_tag_frequency", "ss_network_alpha",
         "modelspec.trigger_phrase", "ss_sd_model_name", "ss_clip_skip", "modelspec.title"]
    ),
    st.one_of(st.text(max_size=40), st.sampled_from(["{", "{}", "[1]", "None", "sdxl_base_v1-0"])),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    tensors=st.dictionaries(NAMES, TENSORS, max_size=12),
    metadata=METADATA,
    fmt=st.sampled_from(["safetensors", "pickle"]),
)
def test_identify_never_raises(tensors, metadata, fmt):
    header = Header(Path("x.safetensors"), fmt, 1 << 20, tensors=tensors, metadata=metadata)
    ident = identify(header)
    assert ident.kind in {k.value for k in Kind}
    if ident.kind == "unknown":
        assert ident.reason
