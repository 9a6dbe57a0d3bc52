"""Which modules a LoRA patches, which modules a model has, and how well the two fit.

Both sides are put in ONE namespace, ``<component>:<module path>``, with diffusers component
names and these module spellings:

- ``unet:<diffusers UNet path>``, e.g. ``unet:down_blocks.1.attentions.0.proj_in``
- ``text_encoder:`` / ``text_encoder_2:`` / ``text_encoder_3:`` + HF path without
  ``text_model.``, e.g. ``text_encoder:encoder.layers.0.self_attn.q_proj``
- ``transformer:<path>``: BFL names for Flux (``double_blocks.0.img_attn.qkv``; diffusers Flux
  names are folded into them), the file's own names otherwise.

Which encoder is ``text_encoder_2`` depends on the family, as in diffusers' pipelines: bigG for
SDXL, CLIP-G for SD3 (T5 is ``text_encoder_3``), but T5 for Flux. kohya's Flux trainer writes T5
modules as ``lora_te3_`` and OneTrainer as ``lora_te2_``; both land on Flux's ``text_encoder_2``.

``coverage(lora, model)`` matches by name AND by the widths the LoRA's factors imply, so a
LoRA for another base whose module names happen to exist still shows up as mismatched.
Keys that cannot be placed are listed in ``unknown_keys``, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pantry.formats.header import Header
from pantry.identify import keymap

# (out_features, in_features); None where the file does not tell (a fused or partial view).
Widths = tuple[int | None, int | None]

# sd-scripts names SDXL modules in SGM layout (its own copy of the original UNet); SD1/SD2 in
# diffusers layout. This is the SDXL UNet shape those SGM names are read with.
KOHYA_SGM_UNET = {
    "layers_per_block": 2,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
}

# LoRA key suffixes (after the module stem) -> which width the tensor tells.
LORA_SUFFIXES: dict[str, str] = {
    ".lora_down.weight": "in",
    ".lora_up.weight": "out",
    ".lora_mid.weight": "",
    ".lora_A.weight": "in",
    ".lora_B.weight": "out",
    ".lora_A.default.weight": "in",
    ".lora_B.default.weight": "out",
    ".lora_B.bias": "",
    ".lora.down.weight": "in",
    ".lora.up.weight": "out",
    ".lora_linear_layer.down.weight": "in",
    ".lora_linear_layer.up.weight": "out",
    ".hada_w1_a": "out",
    ".hada_w1_b": "in",
    ".hada_w2_a": "",
    ".hada_w2_b": "",
    ".hada_t1": "",
    ".hada_t2": "",
    ".lokr_w1": "kron",
    ".lokr_w1_a": "kron_out",
    ".lokr_w1_b": "kron_in",
    ".lokr_w2": "kron",
    ".lokr_w2_a": "kron_out",
    ".lokr_w2_b": "kron_in",
    ".lokr_t2": "",
    # xlabs Flux (``double_blocks.N.processor.qkv_lora1.down.weight``); longer suffixes win.
    ".down.weight": "in",
    ".up.weight": "out",
    # LyCORIS IA3: ``weight`` + ``on_input``. Whether the vector scales the input or the output
    # is the buffer's value, so the header tells no width (see ``_split_suffix``).
    ".on_input": "",
    ".alpha": "",
    ".dora_scale": "",
    ".scale": "",
    ".diff": "full",
    ".diff_b": "",
}

# Flattened-name prefixes (every "." of the module path is "_") -> component. lora_te_ is the
# single encoder of SD1/SD2; "unet" becomes "transformer" in a DiT family (``_canonical``);
# "t5" is the family's T5 slot (T5_COMPONENT). lora_transformer_ is OneTrainer's (diffusers
# names of a DiT); lycoris_ is LyCORIS' standalone wrapper as SimpleTuner saves it (diffusers
# names of the UNet or the transformer).
KOHYA_PREFIXES = {
    "lora_unet_": "unet",
    "lora_transformer_": "transformer",
    "lycoris_": "unet",
    "lora_te_": "text_encoder",
    "lora_te1_": "text_encoder",
    "lora_te2_": "text_encoder_2",
    "lora_te3_": "t5",
}
# Where each family keeps T5 (diffusers pipeline component names).
T5_COMPONENT = {"flux": "text_encoder_2", "sd3": "text_encoder_3", "unet": "text_encoder_3"}
# Module-name words that place a LoRA in a family (checked on the flattened or dotted stem).
FAMILY_WORDS = {
    "flux": ("double_blocks", "single_blocks", "single_transformer_blocks"),
    "sd3": ("joint_blocks", "context_block", "x_block"),
}
# xlabs' Flux attention-processor LoRAs: processor module -> BFL module (lora1 = image stream,
# lora2 = text stream; the single-block ones patch part of linear1 / linear2).
XLABS_PROCESSORS = {
    "qkv_lora1": "img_attn.qkv",
    "proj_lora1": "img_attn.proj",
    "qkv_lora2": "txt_attn.qkv",
    "proj_lora2": "txt_attn.proj",
    "qkv_lora": "linear1",
    "proj_lora": "linear2",
}
# BFL linears that fuse several diffusers linears: a LoRA on one part tells only the input width.
FUSED_BFL_LEAVES = (".img_attn.qkv", ".txt_attn.qkv", ".linear1")
# Top-level BFL module names (a path starting with one is already in the Flux namespace).
BFL_ROOTS = ("double_blocks", "single_blocks", "final_layer", "img_in", "txt_in", "time_in")
BFL_ROOTS += ("vector_in", "guidance_in")
PEFT_PREFIXES = {
    "unet.": "unet",
    "text_encoder.": "text_encoder",
    "text_encoder_2.": "text_encoder_2",
    "text_encoder_3.": "text_encoder_3",
    "transformer.": "transformer",
    "base_model.model.": "unet",
    "diffusion_model.": "transformer",
}

# Single-file prefixes -> (component, how names are spelled there).
SINGLE_FILE_PREFIXES: tuple[tuple[str, str, str], ...] = (
    ("model.diffusion_model.", "unet_or_transformer", "original"),
    ("cond_stage_model.transformer.", "text_encoder", "hf"),
    ("cond_stage_model.model.", "text_encoder", "openclip"),
    ("conditioner.embedders.0.transformer.", "text_encoder", "hf"),
    ("conditioner.embedders.1.model.", "text_encoder_2", "openclip"),
    ("conditioner.embedders.0.model.", "text_encoder_2", "openclip"),
    ("text_encoders.clip_l.transformer.", "text_encoder", "hf"),
    ("text_encoders.clip_g.transformer.", "text_encoder_2", "hf"),
    ("text_encoders.t5xxl.transformer.", "t5", "hf"),
)
# Sub-trees that are never LoRA targets in these namespaces.
IGNORED_PREFIXES = ("first_stage_model.", "model_ema.", "vae.", "control_model.", "depth_model.")

# Module-name words that contain "_" (kohya flattens every "." to "_"; these are put back
# whole). Longest first so "single_transformer_blocks" wins over "transformer_blocks".
UNDERSCORE_WORDS = sorted(
    (
        "down_blocks",
        "up_blocks",
        "mid_block",
        "transformer_blocks",
        "single_transformer_blocks",
        "input_blocks",
        "output_blocks",
        "middle_block",
        "to_q",
        "to_k",
        "to_v",
        "to_out",
        "proj_in",
        "proj_out",
        "time_emb_proj",
        "conv_shortcut",
        "skip_connection",
        "in_layers",
        "out_layers",
        "emb_layers",
        "text_model",
        "self_attn",
        "q_proj",
        "k_proj",
        "v_proj",
        "out_proj",
        "ff_context",
        "add_q_proj",
        "add_k_proj",
        "add_v_proj",
        "to_add_out",
        "img_attn",
        "txt_attn",
        "img_mlp",
        "txt_mlp",
        "img_mod",
        "txt_mod",
        "double_blocks",
        "single_blocks",
        "final_layer",
        "img_in",
        "txt_in",
        "time_in",
        "vector_in",
        "guidance_in",
        "in_layer",
        "out_layer",
        "proj_mlp",
        "norm_out",
        "conv_in",
        "conv_out",
        "time_embedding",
        "linear_1",
        "linear_2",
        "add_embedding",
        "label_emb",
        "time_embed",
        "joint_blocks",
        "x_block",
        "context_block",
        "context_embedder",
        "x_embedder",
        "time_text_embed",
        "timestep_embedder",
        "text_embedder",
        "guidance_embedder",
        "norm1_context",
        "conv_norm_out",
        "layer_norm1",
        "layer_norm2",
        "final_layer_norm",
        "token_embedding",
        "position_embedding",
        "DenseReluDense",
        "wi_0",
        "wi_1",
        "relative_attention_bias",
        "adaLN_modulation",
    ),
    key=len,
    reverse=True,
)


@dataclass
class Coverage:
    """How a LoRA's targets fall on a model's modules.

    ``matched``: same name, compatible widths. ``mismatched``: the name exists but the widths
    differ (the usual sign of a LoRA for another base). ``missing``: no such module.
    ``unknown_keys``: LoRA keys that could not be placed in the namespace.
    """

    targets: set[str]
    matched: set[str] = field(default_factory=set)
    mismatched: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    unknown_keys: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return len(self.matched) / len(self.targets) if self.targets else 0.0

    def by_component(self) -> dict[str, float]:
        """Matched share of the targets of each component (``unet``, ``text_encoder``, ...)."""
        out = {}
        for component in sorted({t.split(":", 1)[0] for t in self.targets}):
            mine = {t for t in self.targets if t.startswith(component + ":")}
            out[component] = len(mine & self.matched) / len(mine)
        return out


def lora_targets(header: Header) -> set[str]:
    """The modules a LoRA patches, in the shared namespace."""
    return set(_lora_widths(header)[0])


def model_targets(header: Header) -> set[str]:
    """The Linear/Conv modules a model file or diffusers folder has, in the shared namespace."""
    return set(_model_widths(header))


def coverage(lora: Header, model: Header) -> Coverage:
    targets, unknown = _lora_widths(lora)
    modules = _model_widths(model)
    result = Coverage(targets=set(targets), unknown_keys=unknown)
    for name, (out_f, in_f) in targets.items():
        if name not in modules:
            result.missing.add(name)
        elif _fits(out_f, in_f, modules[name]):
            result.matched.add(name)
        else:
            result.mismatched.add(name)
    return result


def kohya_to_dotted(flat: str) -> str:
    """``down_blocks_0_attentions_1_transformer_blocks_0_attn1_to_q`` -> dotted module path."""
    parts: list[str] = []
    rest = flat
    while rest:
        for word in UNDERSCORE_WORDS:
            if rest == word or rest.startswith(word + "_"):
                parts.append(word)
                rest = rest[len(word) + 1 :]
                break
        else:
            head, _, rest = rest.partition("_")
            parts.append(head)
    return ".".join(parts)


# --- LoRA side -------------------------------------------------------------------------------


def _lora_widths(header: Header) -> tuple[dict[str, Widths], list[str]]:
    stems: dict[str, dict[str, tuple[int, ...]]] = {}
    unknown: list[str] = []
    ia3_stems = {k.removesuffix(".on_input") for k in header.tensors if k.endswith(".on_input")}
    for key, info in header.tensors.items():
        split = _split_suffix(key, ia3_stems)
        if split is None:
            unknown.append(key)
            continue
        stem, suffix = split
        stems.setdefault(stem, {})[suffix] = info.shape
    family = lora_family(stems)
    targets: dict[str, Widths] = {}
    for stem, parts in stems.items():
        placed = _lora_stem_to_target(stem, family)
        if placed is None:
            unknown.extend(f"{stem}{suffix}" for suffix in parts)
            continue
        name, fused = placed
        out_f, in_f = _widths_of(parts)
        if fused:
            out_f = None  # one of several linears that make one fused module
        old = targets.get(name, (None, None))
        targets[name] = (old[0] or out_f, old[1] or in_f)
    return targets, sorted(unknown)


def lora_family(stems: Iterable[str]) -> str:
    """``flux``, ``sd3`` or ``unet`` (SD1/SD2/SDXL), from the module names a LoRA patches."""
    stems = list(stems)
    for family, words in FAMILY_WORDS.items():
        if any(word in stem for stem in stems for word in words):
            return family
    return "unet"


def _split_suffix(key: str, ia3_stems: set[str] = frozenset()) -> tuple[str, str] | None:
    if ".processor." in key and "_lora." in key:  # old attention-processor LoRA
        module, _, leaf = key.rpartition("_lora.")
        module = module.replace(".processor.", ".").replace(".to_out", ".to_out.0")
        return module, ".lora." + leaf
    if key.endswith(".weight") and key.removesuffix(".weight") in ia3_stems:
        return key.removesuffix(".weight"), ".on_input"  # IA3 vector: no width to read
    for suffix in sorted(LORA_SUFFIXES, key=len, reverse=True):
        if key.endswith(suffix):
            return key[: -len(suffix)], suffix
    return None


def _lora_stem_to_target(stem: str, family: str) -> tuple[str, bool] | None:
    """(target, fused) for a LoRA module stem; ``fused``: one part of a fused BFL linear."""
    for prefix, component in KOHYA_PREFIXES.items():
        if stem.startswith(prefix):
            return _canonical(component, kohya_to_dotted(stem[len(prefix) :]), family)
    stem = stem.removeprefix("diffusion_model.") if family == "flux" else stem
    if ".processor." in stem and stem.startswith(("double_blocks.", "single_blocks.")):
        block, _, processor = stem.partition(".processor.")
        if processor not in XLABS_PROCESSORS:
            return None
        target = f"{block}.{XLABS_PROCESSORS[processor]}"
        return f"transformer:{target}", target.endswith(FUSED_BFL_LEAVES)
    for prefix, component in PEFT_PREFIXES.items():
        if stem.startswith(prefix):
            return _canonical(component, stem[len(prefix) :], family)
    if stem.startswith(("double_blocks.", "single_blocks.")):
        return f"transformer:{stem}", False
    return None


def _canonical(component: str, path: str, family: str) -> tuple[str, bool] | None:
    if component == "t5":
        component = T5_COMPONENT[family]
    if component == "unet" and family != "unet":
        component = "transformer"  # kohya keeps lora_unet_ for the Flux/SD3 transformer
    if component == "unet":
        return _unet_target(path)
    if component == "transformer":
        return _transformer_target(path, family)
    return f"{component}:{keymap.without_text_model(path)}", False


def _transformer_target(path: str, family: str) -> tuple[str, bool] | None:
    if family == "flux" and not path.startswith(BFL_ROOTS):
        bfl = keymap.flux_diffusers_to_bfl(path)
        if bfl is None:
            return None
        # Several diffusers linears fold into qkv / linear1: widths of a part, not the whole.
        return f"transformer:{bfl}", bfl.endswith(FUSED_BFL_LEAVES)
    return f"transformer:{path}", False


def _unet_target(path: str) -> tuple[str, bool] | None:
    if path.startswith(("input_blocks", "middle_block", "output_blocks", "time_embed", "out.")):
        path = keymap.unet_to_diffusers(path, KOHYA_SGM_UNET)
        return (f"unet:{path}", False) if path else None
    return f"unet:{path}", False


def _widths_of(parts: Mapping[str, tuple[int, ...]]) -> Widths:
    out_f = in_f = None
    kron_out, kron_in = 1, 1
    kron = False
    for suffix, shape in parts.items():
        role = LORA_SUFFIXES[suffix]
        if role == "in" and len(shape) >= 2:
            in_f = shape[1]
        elif role == "out" and shape:
            out_f = shape[0]
        elif role == "full" and len(shape) >= 2:
            out_f, in_f = shape[0], shape[1]
        elif role.startswith("kron") and shape:
            kron = True
            if role in ("kron", "kron_out"):
                kron_out *= shape[0]
            if role == "kron" and len(shape) >= 2:
                kron_in *= shape[1]
            if role == "kron_in" and len(shape) >= 2:
                kron_in *= shape[1]
    if kron:
        return kron_out, kron_in
    return out_f, in_f


def _fits(out_f: int | None, in_f: int | None, model: tuple[int, int, int]) -> bool:
    m_out, m_in, m_flat_in = model
    return out_f in (None, m_out) and in_f in (None, m_in, m_flat_in)


# --- Model side ------------------------------------------------------------------------------


def _model_widths(header: Header) -> dict[str, tuple[int, int, int]]:
    if header.format == "diffusers":
        out: dict[str, tuple[int, int, int]] = {}
        for component, part in header.components.items():
            shapes = {k: v.shape for k, v in part.tensors.items()}
            out |= _component_widths(component, shapes)
        return out
    return _single_file_widths({k: v.shape for k, v in header.tensors.items()})


def _component_widths(
    component: str, shapes: Mapping[str, tuple[int, ...]]
) -> dict[str, tuple[int, int, int]]:
    out = {}
    flux = any(k.startswith("single_transformer_blocks.") for k in shapes)
    for module, widths in _weight_modules(shapes).items():
        if component == "transformer" and flux:
            module = keymap.flux_diffusers_to_bfl(module)
            if module is None:
                continue
            if f"transformer:{module}" in out:  # fused: widths of the whole BFL linear
                old = out[f"transformer:{module}"]
                widths = (old[0] + widths[0], widths[1], widths[2])
        elif component.startswith("text_encoder"):
            module = keymap.without_text_model(module)
        out[f"{component}:{module}"] = widths
    return out


def _single_file_widths(shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, int, int]]:
    groups: dict[tuple[str, str], dict[str, tuple[int, ...]]] = {}
    for key, shape in shapes.items():
        if key.startswith(IGNORED_PREFIXES):
            continue
        for prefix, component, style in SINGLE_FILE_PREFIXES:
            if key.startswith(prefix):
                groups.setdefault((component, style), {})[key[len(prefix) :]] = shape
                break
        else:
            groups.setdefault(_bare_file_kind(key), {})[key] = shape
    # The bundle's T5 sits in the family's T5 slot (Flux: text_encoder_2, SD3: text_encoder_3).
    flux = any(
        k.startswith(("double_blocks.", "single_transformer_blocks.")) for k in _names(groups)
    )
    out: dict[str, tuple[int, int, int]] = {}
    for (component, style), tensors in groups.items():
        if component == "t5":
            component = T5_COMPONENT["flux" if flux else "sd3"]
        if style == "openclip":
            out |= _openclip_widths(component, tensors)
        elif component == "unet_or_transformer" or (component, style) == ("unet", "original"):
            out |= _original_denoiser_widths(tensors)
        elif component != "unknown":
            out |= _component_widths(component, tensors)
    return out


def _names(groups: Mapping[tuple[str, str], Mapping[str, object]]) -> Iterable[str]:
    return (name for tensors in groups.values() for name in tensors)


def _bare_file_kind(key: str) -> tuple[str, str]:
    if key.startswith(("input_blocks.", "middle_block.", "output_blocks.", "double_blocks.")):
        return ("unet_or_transformer", "original")
    if key.startswith(("single_blocks.", "joint_blocks.", "time_embed.", "out.", "label_emb.")):
        return ("unet_or_transformer", "original")
    if key.startswith(("down_blocks.", "up_blocks.", "mid_block.", "conv_in.", "time_embedding.")):
        return ("unet", "diffusers")
    if key.startswith(("transformer_blocks.", "single_transformer_blocks.", "x_embedder.")):
        return ("transformer", "diffusers")
    if key.startswith(("context_embedder.", "time_text_embed.", "norm_out.", "proj_out.")):
        return ("transformer", "diffusers")
    if key.startswith(("text_model.", "encoder.", "shared.")):
        return ("text_encoder", "hf")
    return ("unknown", "")


def _original_denoiser_widths(shapes: dict[str, tuple[int, ...]]) -> dict:
    modules = _weight_modules(shapes)
    if any(k.startswith(("double_blocks.", "joint_blocks.")) for k in shapes):
        return {f"transformer:{m}": w for m, w in modules.items()}
    config = ldm_unet_shape(shapes)
    out = {}
    for module, widths in modules.items():
        name = keymap.unet_to_diffusers(module, config)
        if name is not None:
            out[f"unet:{name}"] = widths
    return out


def _openclip_widths(component: str, shapes: dict[str, tuple[int, ...]]) -> dict:
    out = {}
    for key, shape in shapes.items():
        if key.endswith(".in_proj_weight"):
            width = shape[1]
            for name in keymap.openclip_to_diffusers(key):
                out[f"{component}:{name.removesuffix('.weight')}"] = (width, width, width)
        elif key.endswith(".weight") and len(shape) == 2:
            for name in keymap.openclip_to_diffusers(key):
                out[f"{component}:{name.removesuffix('.weight')}"] = _widths(shape)
    return out


def ldm_unet_shape(names: Iterable[str]) -> dict:
    """The UNet config facts the LDM names need (levels, layers per block, attention places),
    read from the names of an original-layout UNet (without ``model.diffusion_model.``)."""
    inputs: dict[int, set[str]] = {}
    outputs: dict[int, set[str]] = {}
    for name in names:
        m = re.match(r"(input|output)_blocks\.(\d+)\.(\d+)\.(\w+)", name)
        if m:
            table = inputs if m[1] == "input" else outputs
            table.setdefault(int(m[2]), set()).add(f"{m[3]}.{m[4]}")
    ops = sorted(n for n, subs in inputs.items() if any(s.startswith("0.op") for s in subs))
    per = ops[0] - 1 if ops else max(inputs, default=1)
    levels = (max(inputs, default=0) - 1) // (per + 1) + 1
    attention = lambda subs: any(s.startswith(("1.proj_in", "1.norm")) for s in subs)  # noqa: E731
    down = [attention(inputs.get(1 + b * (per + 1), set())) for b in range(levels)]
    up = [attention(outputs.get(b * (per + 1), set())) for b in range(levels)]
    return {
        "layers_per_block": per,
        "down_block_types": ["CrossAttnDownBlock2D" if a else "DownBlock2D" for a in down],
        "up_block_types": ["CrossAttnUpBlock2D" if a else "UpBlock2D" for a in up],
    }


def _weight_modules(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, tuple[int, int, int]]:
    """Modules with a 2-D (Linear) or 4-D (Conv) ``weight``: {module: (out, in, in*k*k)}."""
    return {
        key.removesuffix(".weight"): _widths(shape)
        for key, shape in shapes.items()
        if key.endswith(".weight") and len(shape) in (2, 4)
    }


def _widths(shape: tuple[int, ...]) -> tuple[int, int, int]:
    flat_in = shape[1] * (shape[2] * shape[3] if len(shape) == 4 else 1)
    return shape[0], shape[1], flat_in
