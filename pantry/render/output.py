"""Write a render as a PNG that carries its own recipe.

Two text chunks: ``parameters`` (A1111 infotext, with AutoV2 model/VAE hashes and ``Lora
hashes``, which A1111, Civitai and ``pantry recipe from-png`` read) and ``pantry-recipe`` (the
recipe TOML, exact). The seed written is the one used, also when the recipe asked for a random
one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PIL.PngImagePlugin import PngInfo

from pantry.recipes.infotext import InfotextHashes, hashes_from_resolved, write_infotext
from pantry.recipes.model import Recipe, ResolvedRecipe
from pantry.recipes.toml_io import dump_recipe
from pantry.render.job import RenderResult

INFOTEXT_CHUNK = "parameters"
RECIPE_CHUNK = "pantry-recipe"


def rendered_recipe(result: RenderResult, resolved: ResolvedRecipe | None = None) -> Recipe:
    """The recipe as rendered: the resolved one (or one rebuilt from the job) with its seed."""
    recipe = resolved.recipe if resolved is not None else _recipe_from_job(result)
    return dataclasses.replace(recipe, seed=result.seed)


def save_png(
    result: RenderResult, path: str | Path, resolved: ResolvedRecipe | None = None
) -> Path:
    path = Path(path)
    recipe = rendered_recipe(result, resolved)
    hashes = hashes_from_resolved(resolved) if resolved is not None else InfotextHashes()
    info = PngInfo()
    info.add_text(INFOTEXT_CHUNK, write_infotext(recipe, hashes))
    info.add_text(RECIPE_CHUNK, dump_recipe(recipe))
    path.parent.mkdir(parents=True, exist_ok=True)
    result.image.save(path, format="PNG", pnginfo=info)
    return path


def output_name(result: RenderResult, recipe_path: Path | None, index: int) -> str:
    """``<recipe name or file stem>-<seed>.png``; the batch index keeps names apart."""
    stem = result.job.name or (recipe_path.stem if recipe_path else f"render-{index}")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
    return f"{safe}-{result.seed}.png"


def _recipe_from_job(result: RenderResult) -> Recipe:
    from pantry.recipes.model import LoraSpec

    job = result.job
    return Recipe(
        checkpoint=str(job.checkpoint),
        prompt=job.prompt,
        negative_prompt=job.negative_prompt,
        name=job.name,
        vae=str(job.vae) if job.vae else None,
        clip_skip=job.clip_skip,
        width=job.width,
        height=job.height,
        steps=job.steps,
        cfg_scale=job.cfg_scale,
        sampler=job.sampler,
        scheduler=job.scheduler,
        seed=job.seed,
        loras=[LoraSpec(str(lora.path), lora.weight) for lora in job.loras],
    )
