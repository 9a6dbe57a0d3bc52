"""``pantry render``: lint recipes, then render them with the built-in diffusers renderer.

torch and diffusers are imported only by pantry.render, and only when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from pantry.cli.common import EXIT_FINDINGS, err, error_line, fail, open_existing_catalog
from pantry.errors import PantryError


def register(group: click.Group) -> None:
    group.add_command(render_command)


@click.command("render")
@click.argument("recipes", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("renders"),
    show_default=True,
    help="Folder for the PNG files.",
)
@click.option(
    "--device", type=click.Choice(["auto", "cuda", "mps", "cpu"]), default="auto", show_default=True
)
@click.option(
    "--dtype",
    type=click.Choice(["auto", "fp16", "bf16", "fp32"]),
    default="auto",
    show_default=True,
    help="auto: fp16 on a GPU, fp32 on the CPU.",
)
@click.option("--force", is_flag=True, help="Render even when lint finds errors.")
@click.option("--pull", is_flag=True, help="Download hf:// assets the catalog does not have yet.")
@click.option("--catalog", "catalog_path", help="Catalog file or SQLAlchemy URL.")
def render_command(
    recipes: tuple[Path, ...],
    out_dir: Path,
    device: str,
    dtype: str,
    force: bool,
    pull: bool,
    catalog_path: str | None,
) -> None:
    """Render RECIPE files to PNGs that carry their recipe (lint runs first).

    Recipes on the same checkpoint share one loaded model. Exit status: 0 rendered,
    1 lint found errors (nothing rendered), 2 a recipe, asset or render failed (each failure
    is named; the other recipes still render).
    """
    try:
        catalog = open_existing_catalog(catalog_path)
    except PantryError as error:
        fail(str(error))
    try:
        _render(recipes, out_dir, device, dtype, force, pull, catalog)
    except PantryError as error:
        fail(str(error))
    finally:
        catalog.close()


def _render(recipes, out_dir, device, dtype, force, pull, catalog) -> None:
    from pantry.lint.context import LintContext
    from pantry.render import Renderer, job_from_resolved

    renderer = Renderer(device=device, dtype=dtype)  # picks device and dtype; loads nothing yet
    context = LintContext(dtype=renderer.dtype_name)
    plans = [_resolve_and_lint(path, catalog, pull, context) for path in recipes]
    blocked = [path for path, _, has_errors in plans if has_errors]
    if blocked and not force:
        names = ", ".join(str(p) for p in blocked)
        fail(f"not rendering: lint found errors in {names} (--force renders anyway)", EXIT_FINDINGS)
    plans = [(path, _with_hashes(resolved, catalog), errors) for path, resolved, errors in plans]
    ready, jobs, failed = [], [], []
    for plan in plans:
        try:
            jobs.append(job_from_resolved(plan[1]))  # fails on an asset --force let through
            ready.append(plan)
        except PantryError as error:
            error_line(f"{plan[0]}: {error}")
            failed.append(plan[0])
    failed += _render_jobs(renderer, jobs, ready, out_dir, catalog)
    if failed:
        fail(f"{len(failed)} of {len(plans)} recipes could not be rendered")


def _resolve_and_lint(path: Path, catalog, pull: bool, context):
    from pantry.lint.config import find_config
    from pantry.lint.registry import Severity
    from pantry.lint.report import Outcome, write_text
    from pantry.lint.runner import lint
    from pantry.recipes.resolve import resolve
    from pantry.recipes.toml_io import load_recipe

    recipe = load_recipe(path)
    resolved = resolve(recipe, catalog)
    if pull and _pull_missing(resolved, catalog):
        resolved = resolve(recipe, catalog)
    findings = lint(resolved, find_config(path.parent), context)
    if findings:
        write_text([Outcome(path, findings)], err)
    return path, resolved, any(f.severity == Severity.ERROR for f in findings)


def _with_hashes(resolved, catalog):
    """The recipe resolved again after hashing its files: the infotext names them by hash."""
    from pantry.recipes.resolve import resolve

    ids = [r.asset.id for r in resolved.all() if r.asset is not None]
    catalog.hash(ids)  # cached by size, mtime and inode: files already hashed are not read
    return resolve(resolved.recipe, catalog)


def _pull_missing(resolved, catalog) -> bool:
    from pantry.hub import is_hf_ref, pull_ref

    pulled = False
    for resolution in resolved.all():
        if resolution.asset is None and is_hf_ref(resolution.ref):
            err.print(f"pulling {resolution.ref}")
            pull_ref(catalog, resolution.ref)
            pulled = True
    return pulled


def _render_jobs(renderer, jobs, plans, out_dir: Path, catalog) -> list[Path]:
    """Render every job; one that fails is reported with its recipe and the others still run.

    Returns the recipes that failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pantry.recipes.toml_io import dump_recipe
    from pantry.render.output import output_name, rendered_recipe, save_png
    from pantry.render.renderer import batch_order

    failed: list[Path] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as progress:
        images = progress.add_task("images", total=len(jobs))
        steps = progress.add_task("steps", total=1)

        def on_step(done: int, total: int) -> None:
            progress.update(steps, completed=done, total=total)

        for index, job in batch_order(jobs):
            path, resolved, _ = plans[index]
            try:
                result = renderer.render(job, progress=on_step)
            except PantryError as error:
                error_line(f"{path}: {error}")
                failed.append(path)
                progress.advance(images)
                continue
            target = save_png(result, out_dir / output_name(result, path, index), resolved)
            recipe = rendered_recipe(result, resolved)
            assets = [r.asset for r in resolved.all() if r.asset is not None]
            seconds = sum(result.timings.values())
            catalog.record_render(dump_recipe(recipe), result.seed, assets, target, seconds)
            progress.advance(images)
            err.print(f"{path}: wrote {target} (seed {result.seed}, {seconds:.1f} s)")
    return failed
