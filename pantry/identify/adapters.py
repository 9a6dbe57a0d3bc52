"""Conditioning add-ons: ControlNet, T2I-Adapter, IP-Adapter, hypernetworks."""

from __future__ import annotations

from pantry.identify.context import Context
from pantry.identify.identity import Identity
from pantry.identify.meta import base_from_metadata, raw_metadata
from pantry.identify.other_signatures import (
    DIFF_CONTROLNET_KEY,
    IP_ADAPTER_ENCODERS,
    IP_ADAPTER_FACE_WIDTH,
    IP_ADAPTER_LORA_MARKER,
    IP_ADAPTER_PROJECTIONS,
)
from pantry.identify.signatures import (
    CONTEXT_DIM_BASE,
    CONTROLNET_FLUX_KEYS,
    CONTROLNET_KEYS,
    CONTROLNET_ROOTS,
    CONTROLNET_SD3_KEY,
    CROSS_ATTN_KEYS,
    HYPERNETWORK_EXTRAS,
    HYPERNETWORK_WIDTH_BASE,
    HYPERNETWORK_WIDTHS,
    IP_ADAPTER_FLUX_KEY,
    IP_ADAPTER_K_KEY,
    IP_ADAPTER_PREFIXES,
    T2I_ADAPTER_CONV_IN,
    T2I_ADAPTER_KEYS,
    T2I_STYLE_PROJECTION,
    T2I_XL_IN_CHANNELS,
)
from pantry.identify.taxonomy import Base, Kind
from pantry.identify.verdict import LIKELY, BaseClaim, Claim, settle_base


class ControlNetMatcher:
    name = "controlnet"

    def claim(self, ctx: Context) -> Claim | None:
        for key in CONTROLNET_KEYS:
            hit = ctx.keys.find(key, CONTROLNET_ROOTS)
            if hit is not None:
                return Claim(Kind.CONTROLNET.value, 1.0, f"{hit[0]}{key} present", hit[0])
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        keys, root = ctx.keys, claim.found
        structure = None
        if keys.has(root + CONTROLNET_SD3_KEY):
            structure = BaseClaim(Base.SD3, f"{CONTROLNET_SD3_KEY} (SD3 ControlNet)")
        elif any(keys.has(root + k) for k in CONTROLNET_FLUX_KEYS):
            structure = BaseClaim(Base.FLUX, "Flux transformer blocks (Flux ControlNet)")
        else:
            for layout in ("ldm", "diffusers"):
                # control-LoRAs keep the low-rank "down" half: [rank, context width]
                names = CROSS_ATTN_KEYS[layout]
                names += tuple(k.removesuffix(".weight") + ".down" for k in names)
                hit = keys.first(names, root)
                if hit is not None and hit[1].shape[-1] in CONTEXT_DIM_BASE:
                    width = hit[1].shape[-1]
                    base = CONTEXT_DIM_BASE[width]
                    structure = BaseClaim(base, f"cross-attention width {width} means {base.value}")
                    break
        settle_base(
            ident,
            structure,
            base_from_metadata(raw_metadata(ctx.header)),
            "ControlNet without cross-attention keys that name a base",
        )
        if keys.has("lora_controlnet"):
            ident.metadata["control_lora"] = True
            ident.add("kind", "Stability Control-LoRA: low-rank ControlNet, loaded as a ControlNet")
        if keys.has(DIFF_CONTROLNET_KEY):
            ident.warnings.append(
                "diff ControlNet: stores differences to a base model and only works when "
                "loaded with one (ComfyUI's DiffControlNetLoader)"
            )
            ident.add("kind", f"{DIFF_CONTROLNET_KEY!r} marker: a diff ControlNet")


class T2IAdapterMatcher:
    name = "t2i adapter"

    def claim(self, ctx: Context) -> Claim | None:
        for key in T2I_ADAPTER_KEYS:
            if ctx.keys.has(key):
                return Claim(Kind.T2I_ADAPTER.value, 1.0, f"{key} present")
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        hit = ctx.keys.first(T2I_ADAPTER_CONV_IN)
        structure = None
        style = ctx.keys.get(T2I_STYLE_PROJECTION)
        if ctx.keys.has("style_embedding") and style is not None and len(style.shape) == 2:
            width = style.shape[1]
            base = CONTEXT_DIM_BASE.get(width)
            ident.add("kind", "style adapter: turns CLIP ViT-L image tokens into prompt tokens")
            if base is not None:
                structure = BaseClaim(base, f"style tokens {width} wide: {base.value} context")
        elif hit is not None and len(hit[1].shape) == 4:
            channels = hit[1].shape[1]
            base = Base.SDXL if channels in T2I_XL_IN_CHANNELS else Base.SD1
            structure = BaseClaim(
                base,
                f"adapter input has {channels} channels (pixel-unshuffled image)",
                "structure",
                LIKELY,
            )
        settle_base(
            ident,
            structure,
            base_from_metadata(raw_metadata(ctx.header)),
            "adapter input width names no base",
        )


class IPAdapterMatcher:
    name = "ip adapter"

    def claim(self, ctx: Context) -> Claim | None:
        keys = ctx.keys
        if keys.has(IP_ADAPTER_FLUX_KEY):
            return Claim(Kind.IP_ADAPTER.value, 1.0, "Flux IP-Adapter double-stream projections")
        if all(keys.has_prefix(p) for p in IP_ADAPTER_PREFIXES):
            return Claim(Kind.IP_ADAPTER.value, 1.0, "image_proj + ip_adapter weights")
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        keys = ctx.keys
        structure = None
        if keys.has(IP_ADAPTER_FLUX_KEY):
            structure = BaseClaim(Base.FLUX, "Flux double-stream IP projections")
        elif (info := keys.get(IP_ADAPTER_K_KEY)) is not None and len(info.shape) == 2:
            width = info.shape[1]
            base = CONTEXT_DIM_BASE.get(width)
            if base is not None:
                structure = BaseClaim(base, f"to_k_ip input width {width} means {base.value}")
        settle_base(
            ident,
            structure,
            base_from_metadata(raw_metadata(ctx.header)),
            "IP-Adapter projection width names no base",
        )
        _ip_adapter_type(ctx, ident)


def _ip_adapter_type(ctx: Context, ident: Identity) -> None:
    """Which IP-Adapter (plus, full-face, FaceID) and which image encoder it needs."""
    keys = ctx.keys
    for key, adapter_type, role in IP_ADAPTER_PROJECTIONS:
        info = keys.get("image_proj." + key)
        if info is None or not info.shape:
            continue
        # latents are [1, tokens, width]; the input width is the Resampler's proj_in
        if key == "latents":
            info = keys.get("image_proj.proj_in.weight") or info
        width = info.shape[-1]
        if role != "face" and width == IP_ADAPTER_FACE_WIDTH:
            role, adapter_type = "face", "faceid" if key != "latents" else "instantid"
        ident.metadata["ip_adapter_type"] = adapter_type
        encoder = IP_ADAPTER_ENCODERS.get((role, width))
        if encoder is not None:
            ident.metadata["image_encoder"] = encoder
        ident.add("ip_adapter", f"image_proj.{key} takes {width} features: {adapter_type}")
        break
    if any(IP_ADAPTER_LORA_MARKER in k for k in keys.sorted if k.startswith("ip_adapter.")):
        ident.add("ip_adapter", "attention processors carry LoRA weights (FaceID style)")


class HypernetworkMatcher:
    """A1111 hypernetworks: a pickle keyed by layer widths (320, 640, 768, 1024, 1280)."""

    name = "hypernetwork"

    def claim(self, ctx: Context) -> Claim | None:
        extras = set(k for k in ctx.header.extras if isinstance(k, str))
        widths = self._widths(ctx)
        if HYPERNETWORK_EXTRAS & extras and (widths or not ctx.keys.tensors):
            return Claim(Kind.HYPERNETWORK.value, 1.0, "A1111 hypernetwork settings", widths)
        if widths and sum(ctx.keys.count_prefix(f"{w}.") for w in widths) == len(ctx.keys):
            return Claim(Kind.HYPERNETWORK.value, 0.8, "tensors keyed by layer width", widths)
        return None

    @staticmethod
    def _widths(ctx: Context) -> list[int]:
        found = {w for w in HYPERNETWORK_WIDTHS if ctx.keys.has_prefix(f"{w}.")}
        found |= {k for k in ctx.header.extras if isinstance(k, int) and k in HYPERNETWORK_WIDTHS}
        return sorted(found)

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        widths = claim.found or []
        ident.add("kind", f"layer widths {widths}")
        # A1111 builds layers for every size in its settings (all five by default), so a
        # context width only names the base when it is the only one present.
        context = [(w, b) for w, b in HYPERNETWORK_WIDTH_BASE.items() if w in widths]
        structure = None
        if len(context) == 1:
            width, base = context[0]
            structure = BaseClaim(base, f"only a {width}-wide context layer: {base.value}")
        elif context:
            ident.base_candidates = [b.value for _, b in context]
        trained_on = ctx.header.extras.get("sd_checkpoint_name")
        if isinstance(trained_on, str) and trained_on:
            ident.metadata["training_base"] = trained_on
            ident.add("base", f"trained on checkpoint {trained_on!r}", "metadata")
        settle_base(
            ident,
            structure,
            base_from_metadata(raw_metadata(ctx.header)),
            "layers for several context widths (A1111 builds every size): the base is not "
            "in the file"
            if len(context) > 1
            else "no context-width layer names a base",
        )
