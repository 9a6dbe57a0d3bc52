"""LoRA-family adapters: format, rank, alpha, targets, and the base they were trained for.

The base comes from the widths of the layers a LoRA patches (``lora_down``/``lora_A`` is
``[rank, in_features]``), from block names, and from metadata; never from the file name.

DoRA: a ``dora_scale`` beside any format sets ``LoraInfo.dora``; ``format`` stays the
underlying one (kohya, lycoris-locon, ...) because that is what a loader must parse.
"""

from __future__ import annotations

import re
from collections import Counter

from pantry.formats.header import TensorInfo
from pantry.identify.context import Context
from pantry.identify.identity import Identity, LoraInfo
from pantry.identify.lora_lookalikes import in_dit_block, in_unet_block, lookalike_reason
from pantry.identify.meta import base_from_metadata, raw_metadata
from pantry.identify.signatures import (
    CONTROL_LORA_FLUX,
    LORA_CROSS_ATTN_WIDTH,
    LORA_DIT_WIDTH,
    LORA_DOWN_ROLES,
    LORA_NAME_FAMILIES,
    LORA_NAME_PREFIXES,
    LORA_SGM_MARKERS,
    LORA_STRIP_PREFIXES,
    LORA_SUFFIX_ROLES,
    LORA_TE2_WIDTH,
    LORA_TE_WIDTH,
    T5_NAME_MARKERS,
)
from pantry.identify.taxonomy import Base, Edition, Kind, LoraFormat
from pantry.identify.verdict import LIKELY, WEAK, BaseClaim, Claim, settle_base

# Share of a file's tensors that must be adapter weights for the file to be a LoRA.
MIN_ADAPTER_SHARE = 0.5
DIT_BASES = frozenset({Base.FLUX, Base.FLUX2, Base.SD3, Base.CHROMA, Base.LUMINA2, Base.AURAFLOW})
_LOHA_ROLES = frozenset(r for r in LORA_SUFFIX_ROLES.values() if r.startswith("hada_"))
_LOKR_ROLES = frozenset(r for r in LORA_SUFFIX_ROLES.values() if r.startswith("lokr_"))
# Roles whose module format also depends on the module name or a tensor shape.
_NAME_OR_SHAPE_ROLES = frozenset({"oft", "down_processor", "up_processor"})
_BLOCK_INDEX = re.compile(r"transformer_blocks[._](\d+)")
_LARGE_SD3_BLOCK = re.compile(r"(joint|transformer)_blocks[._]37[._]")
# Bases whose (first) text encoder is CLIP-L (768 wide).
SHARED_CLIP_L_BASES = (Base.SD1, Base.SDXL, Base.SD3, Base.FLUX)


class LoraMatcher:
    name = "lora"

    def claim(self, ctx: Context) -> Claim | None:
        scan = ctx.lora
        if ctx.keys.has("lora_controlnet"):
            return Claim(Kind.LORA.value, 1.0, "lora_controlnet key (Stability Control-LoRA)")
        if not scan.modules or scan.share < MIN_ADAPTER_SHARE:
            return None
        score = 1.0 if scan.share > 0.9 else 0.8
        fact = f"{len(scan.modules)} adapter modules ({scan.share:.0%} of tensors)"
        return Claim(Kind.LORA.value, score, fact)

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        modules = ctx.lora.modules
        raw = raw_metadata(ctx.header)
        info = LoraInfo(format=_format(ctx, modules, raw).value)
        info.dora = any("dora_scale" in parts for parts in modules.values())
        ranks = Counter(r for parts in modules.values() if (r := _rank(parts)) is not None)
        if ranks:
            info.rank = ranks.most_common(1)[0][0]
            info.ranks = sorted(ranks)
        info.alpha = _alpha(raw, ident)
        components = {name: _component(name) for name in modules}
        info.module_count = len(modules)
        info.modules = sorted(modules)
        ident.lora = info
        ident.add("lora", f"format {info.format}" + (" with DoRA magnitudes" if info.dora else ""))
        # correctness guards (lora_lookalikes): DiTs that mimic a known base's names/widths
        lookalike = lookalike_reason(modules)
        if lookalike:
            ident.add("base", lookalike)
        structure = None if lookalike else _structure_base(modules, components)
        settle_base(
            ident,
            structure,
            base_from_metadata(raw),
            lookalike or "no patched layer has a width that names a base, and no metadata says",
        )
        if ident.base == Base.UNKNOWN.value and not ident.base_candidates:
            ident.base_candidates = _shared_encoder_candidates(modules, components)
        denoiser = _denoiser_name(ident.base)
        info.targets = dict(
            Counter(denoiser if c == "denoiser" else c for c in components.values()).most_common()
        )


def _format(ctx: Context, modules: dict[str, dict[str, TensorInfo]], raw: dict) -> LoraFormat:
    keys = ctx.keys
    if keys.has("lora_controlnet"):
        return LoraFormat.CONTROL_LORA
    img_in = keys.get(CONTROL_LORA_FLUX[0])
    if img_in is not None and keys.has(CONTROL_LORA_FLUX[1]) and img_in.shape[-1:] == (128,):
        return LoraFormat.CONTROL_LORA
    fmt = _format_counts(modules).most_common(1)[0][0]
    if fmt is LoraFormat.KOHYA:
        network = (raw.get("ss_network_module") or "").lower()
        if "lycoris" in network or "locon" in network or any("mid" in p for p in modules.values()):
            fmt = LoraFormat.LOCON
    return fmt


def _format_counts(modules: dict[str, dict[str, TensorInfo]]) -> Counter:
    """How many modules have each format, in the order the formats first appear.

    A LoRA has thousands of modules but a handful of role sets, so the format is worked out
    once per role set; only roles whose format also hangs on names or shapes go per module.
    """
    role_sets = Counter(map(frozenset, modules.values()))
    if not _NAME_OR_SHAPE_ROLES.isdisjoint(set().union(*role_sets)):
        return Counter(_module_format(name, parts) for name, parts in modules.items())
    counts: Counter = Counter()
    for roles, count in role_sets.items():
        counts[_module_format("", dict.fromkeys(roles))] += count
    return counts


def _module_format(name: str, parts: dict[str, TensorInfo]) -> LoraFormat:
    roles = parts.keys()
    if not _LOHA_ROLES.isdisjoint(roles):
        return LoraFormat.LOHA
    if not _LOKR_ROLES.isdisjoint(roles):
        return LoraFormat.LOKR
    if "glora" in roles:
        return LoraFormat.GLORA
    if "oft" in roles:
        blocks = parts["oft"]
        return LoraFormat.BOFT if len(blocks.shape) == 4 else LoraFormat.OFT
    if "diff" in roles:
        return LoraFormat.FULL
    if "ia3" in roles:
        return LoraFormat.IA3
    if "down_processor" in roles or "up_processor" in roles:
        # "double_blocks.0.processor.qkv_lora1" (XLabs) vs "…processor.to_k_lora" (diffusers)
        flux_block = "double_blocks." in name or "single_blocks." in name
        return LoraFormat.XLABS if flux_block else LoraFormat.DIFFUSERS
    if "A" in roles or "B" in roles or "down_diffusers" in roles or "up_diffusers" in roles:
        return LoraFormat.DIFFUSERS
    if "down" in roles or "up" in roles:
        return LoraFormat.KOHYA
    return LoraFormat.UNKNOWN


def _rank(parts: dict[str, TensorInfo]) -> int | None:
    for role in LORA_DOWN_ROLES:
        info = parts.get(role)
        if info is not None and info.shape:
            return info.shape[0]
    for role in ("hada_w1_b", "lokr_w2_b", "lokr_w1_b"):
        info = parts.get(role)
        if info is not None and info.shape:
            return info.shape[0]
    return None


def _in_width(parts: dict[str, TensorInfo]) -> int | None:
    """Input features of the layer this module patches."""
    for role in (*LORA_DOWN_ROLES, "hada_w1_b", "diff"):
        info = parts.get(role)
        if info is not None and len(info.shape) >= 2:
            return info.shape[1]
    w1 = parts.get("lokr_w1") or parts.get("lokr_w1_b")
    w2 = parts.get("lokr_w2") or parts.get("lokr_w2_b")
    if w1 is not None and w2 is not None and len(w1.shape) >= 2 and len(w2.shape) >= 2:
        return w1.shape[1] * w2.shape[1]  # Kronecker product of the two factors
    return None


def _alpha(raw: dict[str, str], ident: Identity) -> float | None:
    # .alpha tensors hold the value, but a header only says their shape
    text = raw.get("ss_network_alpha")
    if text is None or text.strip().lower() in ("", "none", "null"):
        return None
    try:
        return float(text)
    except ValueError:
        ident.warnings.append(f"metadata ss_network_alpha: unreadable value {text[:40]!r}")
        return None


def _component(name: str) -> str:
    for prefix in LORA_STRIP_PREFIXES:
        name = name.removeprefix(prefix)
    component = "denoiser"
    for prefix, target in LORA_NAME_PREFIXES:
        if name.startswith(prefix):
            component = target
            break
    else:
        if "text_model" in name:
            component = "text_encoder"
    if component.startswith("text_encoder") and any(m in name for m in T5_NAME_MARKERS):
        return "text_encoder_3"
    return component


def _shared_encoder_candidates(
    modules: dict[str, dict[str, TensorInfo]], components: dict[str, str]
) -> list[str]:
    """Bases a text-encoder-only LoRA could be for when its CLIP-L width names none."""
    if any(c != "text_encoder" for c in components.values()):
        return []
    widths = {_in_width(parts) for name, parts in modules.items() if "self_attn" in name}
    return [b.value for b in SHARED_CLIP_L_BASES] if widths == {768} else []


def _denoiser_name(base: str) -> str:
    try:
        return "transformer" if Base(base) in DIT_BASES else "unet"
    except ValueError:
        return "unet"


def _structure_base(
    modules: dict[str, dict[str, TensorInfo]], components: dict[str, str]
) -> BaseClaim | None:
    """The base the patched layers' names and widths point to, strongest signal first."""
    families: Counter = Counter()
    cross: Counter = Counter()
    te_widths: dict[str, Counter] = {"text_encoder": Counter(), "text_encoder_2": Counter()}
    dit_widths: Counter = Counter()
    deep_block = sgm = large_sd3 = False
    for name, parts in modules.items():
        component = components[name]
        if component in ("denoiser", "transformer"):
            for fragment, base in LORA_NAME_FAMILIES:
                if fragment in name:
                    families[base] += 1
                    break
            width = _in_width(parts)
            if "attn2" in name and "to_k" in name and width and in_unet_block(name):
                cross[width] += 1
            if width and in_dit_block(name):
                dit_widths[width] += 1
            if (
                not deep_block
                and in_unet_block(name)
                and (m := _BLOCK_INDEX.search(name))
                and int(m.group(1)) >= 2
            ):
                deep_block = True
            sgm = sgm or name.startswith(LORA_SGM_MARKERS)
            large_sd3 = large_sd3 or bool(_LARGE_SD3_BLOCK.search(name))
        elif component in te_widths and "self_attn" in name and "q_proj" in name:
            width = _in_width(parts)
            if width:
                te_widths[component][width] += 1

    if families:
        base = families.most_common(1)[0][0]
        fact = f"{base.value} block names ({families[base]} modules)"
        edition = Edition.SD35_LARGE if base is Base.SD3 and large_sd3 else None
        width = dit_widths.most_common(1)[0][0] if dit_widths else None
        if base is Base.FLUX and width and width != 3072:
            return BaseClaim(Base.FLUX2, fact + f" with hidden width {width} (Flux.2)")
        return BaseClaim(base, fact, edition=edition)
    if cross:
        width = cross.most_common(1)[0][0]
        base = LORA_CROSS_ATTN_WIDTH.get(width)
        if base is not None:
            return BaseClaim(base, f"cross-attention K input width {width} means {base.value}")
    if dit_widths and any(c == "transformer" for c in components.values()):
        width = dit_widths.most_common(1)[0][0]
        if width in LORA_DIT_WIDTH:
            base, edition = LORA_DIT_WIDTH[width]
            if base is Base.SD3 and large_sd3:
                edition = Edition.SD35_LARGE
            return BaseClaim(
                base, f"transformer hidden width {width}", "structure", LIKELY, edition
            )
    te1, te2 = te_widths["text_encoder"], te_widths["text_encoder_2"]
    if te2 and LORA_TE2_WIDTH in te2:
        return BaseClaim(Base.SDXL, "second text encoder width 1280 (OpenCLIP-bigG): SDXL")
    if deep_block:
        return BaseClaim(
            Base.SDXL,
            "transformer_blocks index >= 2 (SD1/SD2 have one per block)",
            "structure",
            LIKELY,
        )
    if sgm:
        return BaseClaim(
            Base.SDXL, "SGM block names in a kohya LoRA (SDXL naming)", "structure", LIKELY
        )
    if te1:
        width = te1.most_common(1)[0][0]
        if any(n.startswith("lora_te1_") for n in modules):
            # kohya numbers the encoders only for multi-encoder bases (SDXL, SD3, Flux)
            return BaseClaim(
                Base.SDXL,
                "numbered text encoder (lora_te1_) only",
                "structure",
                WEAK,
                candidates=SHARED_CLIP_L_BASES,
            )
        base = LORA_TE_WIDTH.get(width)
        if base is Base.SD1 and not any(n.startswith("lora_te_") for n in modules):
            base = None  # CLIP-L alone: SD1's encoder, and SDXL's, SD3's and Flux's first one
        if base is not None:
            return BaseClaim(
                base, f"text encoder width {width} means {base.value}", "structure", LIKELY
            )
    return None
