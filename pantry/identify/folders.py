"""Diffusers pipeline folders: base from the configs, checked against the weights' shapes."""

from __future__ import annotations

from pantry.identify.context import Context, KeyIndex
from pantry.identify.identity import Identity
from pantry.identify.main_model import structure_base
from pantry.identify.signatures import (
    CONTEXT_DIM_BASE,
    FOLDER_COMPONENTS,
    IN_CHANNEL_VARIANTS,
    PIPELINE_CLASSES,
    TRANSFORMER_CLASSES,
    UNET_ADM_BASE,
)
from pantry.identify.taxonomy import Base, Component, Edition, Kind, Variant
from pantry.identify.verdict import DECISIVE, BaseClaim, add_variant, settle_base

_T5_CLASSES = ("T5EncoderModel",)


def describe_folder(ctx: Context, ident: Identity) -> None:
    configs = ctx.header.configs
    index = configs.get("model_index") or {}
    pipeline = str(index.get("_class_name") or "")
    ident.kind = Kind.CHECKPOINT.value
    ident.add("kind", f"diffusers pipeline folder ({pipeline or 'no _class_name'})", "config")
    if pipeline:
        ident.metadata["pipeline"] = pipeline
    denoiser = next((c for c in ("unet", "transformer", "prior", "decoder") if c in index), None)
    structure = None
    if denoiser and denoiser in ctx.header.components:
        structure = structure_base(KeyIndex(ctx.header.components[denoiser].tensors))
    config = _config_claim(configs, pipeline, denoiser)
    if pipeline in PIPELINE_CLASSES:
        why = f"{pipeline} whose config and weights match no known base (a test or custom model?)"
    else:
        why = f"unknown pipeline {pipeline!r} and no known weights"
    settle_base(ident, structure, config, why)
    _config_variants(configs, denoiser, ident)
    _components(ctx, index, ident)


def _config_claim(configs: dict, pipeline: str, denoiser: str | None) -> BaseClaim | None:
    known_base, variants = PIPELINE_CLASSES.get(pipeline, (None, ()))
    config = _dict(configs.get(denoiser or "")) if denoiser else {}
    base: Base | None = known_base
    fact = f"pipeline {pipeline}"
    edition = None
    if config.get("_class_name") in TRANSFORMER_CLASSES:
        base = TRANSFORMER_CLASSES[config["_class_name"]]
        fact = f"transformer {config['_class_name']}"
        if base is Base.FLUX:
            edition = Edition.FLUX_DEV if config.get("guidance_embeds") else Edition.FLUX_SCHNELL
        if base is Base.SD3:
            layers = config.get("num_layers")
            dual = config.get("dual_attention_layers")
            edition = (
                Edition.SD35_LARGE
                if layers == 38
                else Edition.SD35_MEDIUM
                if dual
                else Edition.SD3_MEDIUM
                if layers == 24
                else None
            )
    elif base is None and denoiser == "unet":
        adm = config.get("projection_class_embeddings_input_dim")
        cross = config.get("cross_attention_dim")
        if isinstance(cross, list) and cross:
            cross = cross[0]
        if adm in UNET_ADM_BASE:
            base = UNET_ADM_BASE[adm]
            fact = f"unet projection_class_embeddings_input_dim {adm}"
        elif cross in CONTEXT_DIM_BASE:
            base = CONTEXT_DIM_BASE[cross]
            fact = f"unet cross_attention_dim {cross}"
    if base is None:
        return None
    return BaseClaim(base, fact, "config", DECISIVE, edition, variants)


def _config_variants(configs: dict, denoiser: str | None, ident: Identity) -> None:
    config = _dict(configs.get(denoiser or "")) if denoiser else {}
    channels = config.get("in_channels")
    if denoiser == "unet" and channels in IN_CHANNEL_VARIANTS and ident.base != Base.SVD.value:
        add_variant(ident, IN_CHANNEL_VARIANTS[channels])
        ident.add("variant", f"unet in_channels {channels}", "config")
    scheduler = _dict(configs.get("scheduler"))
    if scheduler.get("prediction_type") == "v_prediction":
        add_variant(ident, Variant.V_PREDICTION)
        ident.add("variant", "scheduler prediction_type v_prediction", "config")
        if ident.base == Base.SD2.value and not ident.edition:
            ident.edition = Edition.SD2_768_V.value
    if scheduler.get("rescale_betas_zero_snr"):
        add_variant(ident, Variant.ZTSNR)
        ident.add("variant", "scheduler rescale_betas_zero_snr", "config")


def _components(ctx: Context, index: dict, ident: Identity) -> None:
    present, missing = [], []
    for name, spec in index.items():
        component = FOLDER_COMPONENTS.get(name)
        if component is None or not isinstance(spec, list) or spec[:1] == [None]:
            continue
        if component is not Component.UNET and spec[-1:] and spec[-1] in _T5_CLASSES:
            component = Component.TEXT_ENCODER_3  # Flux/SD3 put T5 in a numbered slot
        sub = ctx.header.components.get(name)
        target = present if sub is not None and sub.tensors else missing
        if component.value not in target:
            target.append(component.value)
    ident.components = {"present": present, "missing": missing}
    if missing:
        ident.add(
            "components", "folder lists but lacks weights for " + ", ".join(missing), "config"
        )


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}
