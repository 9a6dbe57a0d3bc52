"""Sampler and scheduler names as infotext writers spell them, and the recipe's spelling.

Recipes use A1111 sampler names ("DPM++ 2M") and lower-case scheduler names ("karras").
The tables below are data; the functions after them only look things up.
"""

from __future__ import annotations

# A1111 / Forge sampler labels (the "Sampler:" infotext value since A1111 1.9).
A1111_SAMPLERS = (
    "Euler a",
    "Euler",
    "LMS",
    "Heun",
    "DPM2",
    "DPM2 a",
    "DPM++ 2S a",
    "DPM++ 2M",
    "DPM++ SDE",
    "DPM++ 2M SDE",
    "DPM++ 2M SDE Heun",
    "DPM++ 3M SDE",
    "DPM fast",
    "DPM adaptive",
    "Restart",
    "DDIM",
    "DDIM CFG++",
    "PLMS",
    "UniPC",
    "LCM",
    "DEIS",
    "iPNDM",
    "Euler CFG++",
    "Euler a CFG++",
)

# "Schedule type:" labels -> recipe scheduler names. "Automatic" means the sampler's default.
SCHEDULE_TYPES = {
    "Automatic": None,
    "Uniform": "uniform",
    "Karras": "karras",
    "Exponential": "exponential",
    "Polyexponential": "polyexponential",
    "SGM Uniform": "sgm_uniform",
    "KL Optimal": "kl_optimal",
    "Align Your Steps": "align_your_steps",
    "Align Your Steps GITS": "align_your_steps_gits",
    "Align Your Steps 11": "align_your_steps_11",
    "Align Your Steps 32": "align_your_steps_32",
    "Simple": "simple",
    "Normal": "normal",
    "DDIM": "ddim",
    "Beta": "beta",
    "Turbo": "turbo",
}

# Before A1111 1.9 the scheduler was part of the sampler label: "DPM++ 2M Karras".
COMBINED_SUFFIXES = {" Karras": "karras", " Exponential": "exponential"}

# ComfyUI sampler_name values (written by ComfyUI image-saver nodes) -> A1111 labels.
COMFY_SAMPLERS = {
    "euler": "Euler",
    "euler_ancestral": "Euler a",
    "euler_cfg_pp": "Euler CFG++",
    "euler_ancestral_cfg_pp": "Euler a CFG++",
    "heun": "Heun",
    "dpm_2": "DPM2",
    "dpm_2_ancestral": "DPM2 a",
    "lms": "LMS",
    "dpm_fast": "DPM fast",
    "dpm_adaptive": "DPM adaptive",
    "dpmpp_2s_ancestral": "DPM++ 2S a",
    "dpmpp_sde": "DPM++ SDE",
    "dpmpp_sde_gpu": "DPM++ SDE",
    "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_sde": "DPM++ 2M SDE",
    "dpmpp_2m_sde_gpu": "DPM++ 2M SDE",
    "dpmpp_3m_sde": "DPM++ 3M SDE",
    "dpmpp_3m_sde_gpu": "DPM++ 3M SDE",
    "ddim": "DDIM",
    "uni_pc": "UniPC",
    "uni_pc_bh2": "UniPC",
    "lcm": "LCM",
    "deis": "DEIS",
    "ipndm": "iPNDM",
}

# ComfyUI scheduler values, and the suffixes image-saver nodes glue onto sampler names.
COMFY_SCHEDULERS = {
    "normal": "normal",
    "karras": "karras",
    "exponential": "exponential",
    "sgm_uniform": "sgm_uniform",
    "simple": "simple",
    "ddim_uniform": "ddim",
    "beta": "beta",
    "kl_optimal": "kl_optimal",
    "linear_quadratic": "linear_quadratic",
}


def split_sampler(label: str) -> tuple[str, str | None]:
    """("DPM++ 2M Karras") -> ("DPM++ 2M", "karras"); ComfyUI names become A1111 labels."""
    label = label.strip()
    for suffix, scheduler in COMBINED_SUFFIXES.items():
        if label.endswith(suffix) and label[: -len(suffix)] in A1111_SAMPLERS:
            return label[: -len(suffix)], scheduler
    if label in COMFY_SAMPLERS:
        return COMFY_SAMPLERS[label], None
    for comfy_scheduler, scheduler in COMFY_SCHEDULERS.items():
        stem = label.removesuffix("_" + comfy_scheduler)
        if stem != label and stem in COMFY_SAMPLERS:
            return COMFY_SAMPLERS[stem], scheduler
    return label, None


def scheduler_from_label(label: str) -> str | None:
    """A "Schedule type:" or ComfyUI scheduler value -> recipe scheduler name (None: default)."""
    label = label.strip()
    if label in SCHEDULE_TYPES:
        return SCHEDULE_TYPES[label]
    lowered = label.lower()
    if lowered in COMFY_SCHEDULERS:
        return COMFY_SCHEDULERS[lowered]
    for known, scheduler in SCHEDULE_TYPES.items():
        if known.lower() == lowered:
            return scheduler
    return lowered.replace(" ", "_") or None


def schedule_label(scheduler: str) -> str:
    """Recipe scheduler name -> the "Schedule type:" label A1111 writes."""
    for label, name in SCHEDULE_TYPES.items():
        if name == scheduler:
            return label
    return scheduler.replace("_", " ").title()
