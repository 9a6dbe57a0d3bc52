"""`pantry demo`: build a demo model folder and run pantry's main job on it, end to end.

Each step runs the real command in a child process, exactly as a user would type it, with
``PANTRY_HOME`` pointing at the demo folder so the user's own catalog is never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from rich.markup import escape

from pantry.cli.common import EXIT_OK, err, fail, out

SAMPLE_RECIPES = Path(__file__).resolve().parents[2] / "sample_recipes"
DEMO_RECIPE = """\
# Rendered by `pantry demo` with a tiny random-weight SD1 model: expect noise, not a picture.
name = "demo render"
checkpoint = "tiny_sd15_demo"
prompt = "a photo of a lighthouse at dusk"
negative_prompt = "blurry"
width = 64
height = 64
steps = 4
cfg_scale = 7.0
sampler = "DPM++ 2M"
scheduler = "karras"
seed = 42

[lint]
# The tiny model is too small to be recognised as SD1, and renders few steps far below 512 px.
ignore = ["PC208", "PT405", "PT406"]
"""


def register(group: click.Group) -> None:
    group.add_command(demo_command)


@click.command("demo")
@click.option(
    "--dir",
    "demo_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("pantry-demo"),
    show_default=True,
    help="Where the demo folder and its catalog go.",
)
@click.option("--no-render", is_flag=True, help="Skip the render step (no torch needed).")
def demo_command(demo_dir: Path, no_render: bool) -> None:
    """Generate a demo model folder, catalogue it, inspect, lint and render a recipe."""
    from pantry.demo import build_demo_folder

    demo_dir = demo_dir.resolve()
    models = demo_dir / "models"
    written = build_demo_folder(demo_dir)
    size = sum(p.stat().st_size for p in written)
    err.print(
        f"wrote {len(written)} header-faithful model files ({size / 1e9:.1f} GB on paper, "
        f"almost nothing on disk) under {escape(str(models))}"
    )
    env = {**os.environ, "PANTRY_HOME": str(demo_dir)}
    _run(env, "scan", str(models))
    sd = models / "Stable-diffusion"
    _run(
        env,
        "inspect",
        str(sd / "sdxl_base_1.0.safetensors"),
        str(models / "Lora" / "detail_tweaker_xl.safetensors"),
        str(models / "VAE" / "sdxl_vae.safetensors"),
        str(sd / "old_model.ckpt"),
    )
    _run(env, "ls")
    if SAMPLE_RECIPES.is_dir():
        recipes = sorted(str(p) for p in SAMPLE_RECIPES.glob("*.toml"))
        shown = f"lint {SAMPLE_RECIPES}/*.toml"
        _run(env, "lint", *recipes, check=False, shown=shown)
    if no_render:
        raise click.exceptions.Exit(EXIT_OK)
    try:
        from pantry.render.demo import build_demo_model
    except ImportError:
        fail("rendering needs the render extra: pip install -e '.[render]'")
    build_demo_model(sd)
    recipe = demo_dir / "demo_render.toml"
    recipe.write_text(DEMO_RECIPE)
    _run(env, "scan", str(models))
    _run(env, "render", str(recipe), "--out", str(demo_dir / "renders"))
    pngs = sorted((demo_dir / "renders").glob("*.png"))
    if pngs:
        out.print(f"\nrendered: {escape(str(pngs[-1]))}")


def _run(env: dict[str, str], *args: str, check: bool = True, shown: str = "") -> int:
    shown = escape(shown or " ".join(args))
    out.print(f"\n[bold]$ pantry {shown}[/]")
    sys.stdout.flush()
    code = subprocess.run([sys.executable, "-m", "pantry", *args], env=env).returncode
    if check and code != 0:
        fail(f"`pantry {' '.join(args)}` exited with {code}", code)
    return code
