"""A1111 sampler and schedule names -> diffusers schedulers.

A recipe names its sampler the way AUTOMATIC1111 does (``Sampler: DPM++ 2M``) and, since A1111
1.9, the noise schedule separately (``Schedule type: Karras``); older infotext glues them
(``DPM++ 2M Karras``), which is split here. The tables:

==============  ==================================  =========================================
A1111 sampler   diffusers scheduler                 options
==============  ==================================  =========================================
Euler a         EulerAncestralDiscreteScheduler
Euler           EulerDiscreteScheduler
LMS             LMSDiscreteScheduler                (needs scipy)
Heun            HeunDiscreteScheduler
DPM2            KDPM2DiscreteScheduler
DPM2 a          KDPM2AncestralDiscreteScheduler
DPM++ 2M        DPMSolverMultistepScheduler         algorithm_type=dpmsolver++
DPM++ 2M SDE    DPMSolverMultistepScheduler         algorithm_type=sde-dpmsolver++
DPM++ 3M SDE    DPMSolverMultistepScheduler         algorithm_type=sde-dpmsolver++, order 3
DPM++ SDE       DPMSolverSDEScheduler               (needs torchsde)
DPM++ 2S a      (none: diffusers has no ancestral singlestep solver)
DDIM            DDIMScheduler                       leading spacing, as A1111's DDIM
PLMS            PNDMScheduler                       skip_prk_steps
UniPC           UniPCMultistepScheduler
DEIS            DEISMultistepScheduler
LCM             LCMScheduler
==============  ==================================  =========================================

Schedules: Automatic/Uniform -> the sampler's default, Karras -> use_karras_sigmas,
Exponential -> use_exponential_sigmas, Beta -> use_beta_sigmas, SGM Uniform -> trailing
timesteps. A1111's k-diffusion samplers space their timesteps evenly from the last training
step to 0, which is diffusers' ``timestep_spacing="linspace"``.
"""

from __future__ import annotations

from typing import Any

from pantry.errors import RenderError

K_DIFFUSION = {"timestep_spacing": "linspace"}

SAMPLERS: dict[str, tuple[str, dict[str, Any]]] = {
    "euler a": ("EulerAncestralDiscreteScheduler", K_DIFFUSION),
    "euler": ("EulerDiscreteScheduler", K_DIFFUSION),
    "lms": ("LMSDiscreteScheduler", K_DIFFUSION),
    "heun": ("HeunDiscreteScheduler", K_DIFFUSION),
    "dpm2": ("KDPM2DiscreteScheduler", K_DIFFUSION),
    "dpm2 a": ("KDPM2AncestralDiscreteScheduler", K_DIFFUSION),
    "dpm++ 2m": ("DPMSolverMultistepScheduler", {**K_DIFFUSION, "algorithm_type": "dpmsolver++"}),
    "dpm++ 2m sde": (
        "DPMSolverMultistepScheduler",
        {**K_DIFFUSION, "algorithm_type": "sde-dpmsolver++"},
    ),
    "dpm++ 3m sde": (
        "DPMSolverMultistepScheduler",
        {**K_DIFFUSION, "algorithm_type": "sde-dpmsolver++", "solver_order": 3},
    ),
    "dpm++ sde": ("DPMSolverSDEScheduler", K_DIFFUSION),
    "ddim": ("DDIMScheduler", {"timestep_spacing": "leading", "set_alpha_to_one": False}),
    "plms": ("PNDMScheduler", {"timestep_spacing": "leading", "skip_prk_steps": True}),
    "unipc": ("UniPCMultistepScheduler", K_DIFFUSION),
    "deis": ("DEISMultistepScheduler", K_DIFFUSION),
    "lcm": ("LCMScheduler", {}),
}

# recipe scheduler names (pantry.recipes.samplers spells "SGM Uniform" as sgm_uniform)
SCHEDULES: dict[str, dict[str, Any]] = {
    "automatic": {},
    "uniform": {},
    "normal": {},
    "karras": {"use_karras_sigmas": True},
    "exponential": {"use_exponential_sigmas": True},
    "beta": {"use_beta_sigmas": True},
    "sgm_uniform": {"timestep_spacing": "trailing"},
}


def split_sampler(sampler: str, schedule: str | None) -> tuple[str, str | None]:
    """``("DPM++ 2M Karras", None)`` -> ``("dpm++ 2m", "karras")``; names lower-cased."""
    from pantry.recipes.samplers import split_sampler as split_label

    label, glued = split_label(sampler)
    schedule = schedule or glued
    return label.lower(), schedule.strip().lower().replace(" ", "_") if schedule else None


def scheduler_options(sampler: str, schedule: str | None) -> tuple[str, dict[str, Any]]:
    """The diffusers scheduler class name and config overrides for an A1111 sampler/schedule."""
    name, schedule_name = split_sampler(sampler, schedule)
    if name not in SAMPLERS:
        raise RenderError(
            f"sampler {sampler!r} has no diffusers equivalent; use one of: {_known()}"
        )
    class_name, options = SAMPLERS[name]
    options = dict(options)
    if schedule_name:
        if schedule_name not in SCHEDULES:
            known = ", ".join(SCHEDULES)
            raise RenderError(f"schedule type {schedule!r} is not known; use one of: {known}")
        options.update(SCHEDULES[schedule_name])
    return class_name, options


def make_scheduler(base_config: dict[str, Any], sampler: str, schedule: str | None):
    """A scheduler for the sampler, on the checkpoint's own noise schedule (betas, prediction)."""
    import diffusers

    class_name, options = scheduler_options(sampler, schedule)
    try:
        cls = getattr(diffusers, class_name)
        scheduler = cls.from_config(base_config, **options)
    except ImportError as error:  # diffusers' placeholder for a scheduler whose package is absent
        raise RenderError(f"sampler {sampler!r} needs a missing package: {error}") from error
    # from_config drops options a scheduler does not take; a silently ignored schedule would
    # render something other than the recipe asks for
    ignored = [k for k, v in options.items() if scheduler.config.get(k) != v]
    if ignored:
        raise RenderError(
            f"sampler {sampler!r} with schedule {schedule!r} is not supported by "
            f"{class_name} (ignores {', '.join(ignored)})"
        )
    return scheduler


def _known() -> str:
    return ", ".join(sorted(SAMPLERS))
