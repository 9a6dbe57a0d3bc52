"""Conditioning add-ons and odd ones out: ControlNet, T2I-Adapter, IP-Adapter, hypernetworks,
upscalers."""

from __future__ import annotations

from pantry.identify.context import Context
from pantry.identify.identity import Identity
from pantry.identify.meta import base_from_metadata, raw_metadata
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
    T2I_XL_IN_CHANNELS,
    UPSCALER_KEYS,
)
from pantry.identify.taxonomy import Base, Confidence, Kind
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
                hit = keys.first(CROSS_ATTN_KEYS[layout], root)
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


class T2IAdapterMatcher:
    name = "t2i adapter"

    def claim(self, ctx: Context) -> Claim | None:
        for key in T2I_ADAPTER_KEYS:
            if ctx.keys.has(key):
                return Claim(Kind.T2I_ADAPTER.value, 1.0, f"{key} present")
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        hit = ctx.keys.first(T2I_ADAPTER_CONV_IN) or ctx.keys.first(("body.0.in_conv.weight",))
        structure = None
        if hit is not None and len(hit[1].shape) == 4:
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


class UpscalerMatcher:
    name = "upscaler"

    def claim(self, ctx: Context) -> Claim | None:
        for key in UPSCALER_KEYS:
            if ctx.keys.has(key):
                return Claim(Kind.UPSCALER.value, 1.0, f"{key} (ESRGAN/SwinIR family)")
        return None

    def describe(self, ctx: Context, ident: Identity, claim: Claim) -> None:
        # upscalers work on pixels: every base can use them, so "unknown" base is the answer
        ident.confidence = Confidence.HIGH.value
        ident.add("base", "pixel-space upscaler: not tied to a base model")
