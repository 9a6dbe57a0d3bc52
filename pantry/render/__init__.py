"""The built-in diffusers renderer: the only package of pantry that imports torch and diffusers.

``Renderer(device, dtype).render(RenderJob) -> RenderResult``; ``job_from_resolved`` turns a
resolved recipe into a job; ``save_png`` writes the image with its infotext and recipe.
Importing ``pantry.render`` itself is cheap: torch loads with the first renderer.
"""

from __future__ import annotations

from pantry.render.job import EmbeddingJob, LoraJob, RenderJob, RenderResult, job_from_resolved

__all__ = [
    "EmbeddingJob",
    "LoraJob",
    "RenderJob",
    "RenderResult",
    "Renderer",
    "job_from_resolved",
    "save_png",
]


def __getattr__(name: str):
    if name == "Renderer":
        from pantry.render.renderer import Renderer

        return Renderer
    if name == "save_png":
        from pantry.render.output import save_png

        return save_png
    raise AttributeError(name)
