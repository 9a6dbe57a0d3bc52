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
    "IPNDM",
    "IPNDM_V",
    "HeunPP2",
    "Euler CFG++",
    "Euler a CFG++",
)

# The schedule each A1111 sampler uses when "Schedule type" is "Automatic" (A1111's sampler
# options); samplers not listed use the model's own (uniform) schedule.
A1111_DEFAULT_SCHEDULES = {
    "DPM++ 2M": "karras",
    "DPM++ SDE": "karras",
    "DPM++ 2M SDE": "exponential",
    "DPM++ 2M SDE Heun": "exponential",
    "DPM++ 2S a": "karras",
    "DPM++ 3M SDE": "exponential",
    "DPM2": "karras",
    "DPM2 a": "karras",
    "Restart": "karras",
}

# Other spellings of A1111 samplers: A1111's own aliases (its API and NovelAI use them) and
# InvokeAI's scheduler names ("_k" there means the Karras schedule; see INVOKE_KARRAS_SUFFIX).
SAMPLER_ALIASES = {
    "k_euler_a": "Euler a",
    "k_euler_ancestral": "Euler a",
    "k_euler": "Euler",
    "k_lms": "LMS",
    "k_heun": "Heun",
    "k_dpm_2": "DPM2",
    "k_dpm_2_a": "DPM2 a",
    "k_dpm_2_ancestral": "DPM2 a",
    "k_dpmpp_2s_a": "DPM++ 2S a",
    "k_dpmpp_2s_ancestral": "DPM++ 2S a",
    "k_dpmpp_2m": "DPM++ 2M",
    "k_dpmpp_sde": "DPM++ SDE",
    "k_dpmpp_2m_sde": "DPM++ 2M SDE",
    "k_dpmpp_2m_sde_heun": "DPM++ 2M SDE Heun",
    "k_dpmpp_3m_sde": "DPM++ 3M SDE",
    "k_dpm_fast": "DPM fast",
    "k_dpm_ad": "DPM adaptive",
    "k_lcm": "LCM",
    "ddim_v3": "DDIM",
    "euler_a": "Euler a",
    "kdpm_2": "DPM2",
    "kdpm_2_a": "DPM2 a",
    "dpmpp_2s": "DPM++ 2S a",
    "dpmpp_3m": "DPM++ 3M SDE",
    "unipc": "UniPC",
    "pndm": "PLMS",
}
INVOKE_KARRAS_SUFFIX = "_k"

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

# Other spellings of schedule types (A1111 accepts its scheduler names and these aliases).
SCHEDULE_ALIASES = {"SGMUniform": "sgm_uniform"}

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
    "ipndm": "IPNDM",
    "ipndm_v": "IPNDM_V",
    "heunpp2": "HeunPP2",
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
    """("DPM++ 2M Karras") -> ("DPM++ 2M", "karras"); aliases and ComfyUI names -> A1111 labels.

    Before A1111 1.9 the schedule was part of the label; A1111 still strips any schedule
    label, name or alias after a space, and so does this. Unknown labels come back unchanged.
    """
    label = label.strip()
    known = _a1111_label(label)
    if known:
        return known, None
    for suffix, scheduler in _schedule_spellings():
        if label.lower().endswith(" " + suffix.lower()):
            stem = _a1111_label(label[: -len(suffix) - 1])
            if stem:
                return stem, scheduler
    lowered = label.lower()
    if lowered in COMFY_SAMPLERS:
        return COMFY_SAMPLERS[lowered], None
    for comfy_scheduler, scheduler in COMFY_SCHEDULERS.items():
        stem = lowered.removesuffix("_" + comfy_scheduler)
        if stem != lowered and stem in COMFY_SAMPLERS:
            return COMFY_SAMPLERS[stem], scheduler
    stem = lowered.removesuffix(INVOKE_KARRAS_SUFFIX)
    if stem != lowered and (_a1111_label(stem) or stem in COMFY_SAMPLERS):
        return _a1111_label(stem) or COMFY_SAMPLERS[stem], "karras"
    return label, None


def default_schedule(sampler: str) -> str | None:
    """The schedule A1111 means by "Automatic" for this sampler (None: the model's own)."""
    return A1111_DEFAULT_SCHEDULES.get(sampler)


def scheduler_from_label(label: str) -> str | None:
    """A "Schedule type:" or ComfyUI scheduler value -> recipe scheduler name (None: default)."""
    label = label.strip()
    lowered = label.lower()
    for spelling, scheduler in _schedule_spellings():
        if spelling.lower() == lowered:
            return scheduler
    if lowered in COMFY_SCHEDULERS:
        return COMFY_SCHEDULERS[lowered]
    return lowered.replace(" ", "_") or None


def schedule_label(scheduler: str) -> str:
    """Recipe scheduler name -> the "Schedule type:" label A1111 writes."""
    for label, name in SCHEDULE_TYPES.items():
        if name == scheduler:
            return label
    return scheduler.replace("_", " ").title()


def _a1111_label(name: str) -> str | None:
    """The A1111 label for ``name`` in any case, or for one of its aliases."""
    lowered = name.strip().lower()
    for label in A1111_SAMPLERS:
        if label.lower() == lowered:
            return label
    return SAMPLER_ALIASES.get(lowered)


def _schedule_spellings() -> list[tuple[str, str | None]]:
    """Every (spelling, scheduler) pair: labels, names and aliases, longest first so that
    "Align Your Steps GITS" wins over "Align Your Steps"."""
    pairs = [(label, name) for label, name in SCHEDULE_TYPES.items()]
    pairs += [(name, name) for name in SCHEDULE_TYPES.values() if name]
    pairs += list(SCHEDULE_ALIASES.items())
    return sorted(pairs, key=lambda pair: -len(pair[0]))
