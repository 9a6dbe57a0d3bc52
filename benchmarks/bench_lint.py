"""Lint 100 recipes against a 10,000-asset catalog; print time per recipe.

    python benchmarks/bench_lint.py [--assets 10000] [--recipes 100]

The catalog is a real SQLite catalog (migrated by Catalog.open) whose rows are inserted
directly: scanning 10,000 model files would measure the scanner, not the linter. Baseline, in
the same run: loading and resolving the recipes (the catalog look-ups lint cannot avoid); then
the rules alone over the resolved recipes. The ratio shows what the rules add.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pantry.catalog import Catalog
from pantry.catalog.models import AssetRow
from pantry.identify.identity import Identity, VaeInfo
from pantry.lint.config import find_config
from pantry.lint.context import LintContext
from pantry.lint.runner import lint
from pantry.recipes.resolve import resolve
from pantry.recipes.toml_io import load_recipe

# Share of each kind in a large, LoRA-heavy library.
MIX = (("checkpoint", 0.10), ("vae", 0.02), ("lora", 0.70), ("embedding", 0.18))
BASES = ("sd1", "sdxl")
REPEATS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--recipes", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database = folder / "catalog.db"
        names = fill_catalog(database, args.assets, rng)
        recipes = write_recipes(folder / "recipes", names, args.recipes, rng)
        with Catalog.open(database) as catalog:
            start = time.perf_counter()
            resolved = [resolve(load_recipe(p), catalog) for p in recipes]
            resolving = time.perf_counter() - start
        context = LintContext(dtype="fp16")
        configs = [find_config(p.parent) for p in recipes]
        rules = best_of(
            lambda: [lint(r, c, context) for r, c in zip(resolved, configs, strict=True)]
        )
    per_resolve = resolving / len(recipes) * 1000
    per_rules = rules / len(recipes) * 1000
    print(f"catalog: {args.assets} assets; {len(recipes)} recipes")
    print(f"baseline: load + resolve   {per_resolve:9.3f} ms/recipe")
    print(f"lint rules (best of {REPEATS})    {per_rules:9.3f} ms/recipe")
    print(f"pantry lint end to end     {per_resolve + per_rules:9.3f} ms/recipe")
    print(f"ratio rules / baseline     {per_rules / per_resolve:9.3f}x")


def fill_catalog(database: Path, count: int, rng: random.Random) -> dict[tuple[str, str], list]:
    """Insert ``count`` asset rows; returns names by (kind, base)."""
    Catalog.open(database).close()  # creates and migrates the schema
    names: dict[tuple[str, str], list[str]] = {}
    rows = []
    now = time.time()
    for kind, share in MIX:
        for i in range(int(count * share)):
            base = rng.choice(BASES)
            name = f"{kind}_{base}_{i:05d}"
            names.setdefault((kind, base), []).append(name)
            identity = _identity(kind, base, rng)
            rows.append(
                AssetRow(
                    path=f"/library/{kind}/{name}.safetensors",
                    name=name,
                    size=100_000_000,
                    mtime_ns=0,
                    device=1,
                    inode=len(rows) + 1,
                    format="safetensors",
                    status="ok",
                    kind=kind,
                    base=base,
                    search_text=name.lower(),
                    identity=identity.to_json(),
                    header_metadata={},
                    warnings=[],
                    overrides={},
                    first_seen=now,
                    last_seen=now,
                )
            )
    with Session(create_engine(f"sqlite:///{database}")) as db, db.begin():
        db.add_all(rows)
    return names


def _identity(kind: str, base: str, rng: random.Random) -> Identity:
    identity = Identity(kind=kind, base=base, confidence="high")
    if kind == "checkpoint":
        identity.components = {"present": ["unet", "vae", "text_encoder"], "missing": []}
    if kind == "vae":
        identity.vae = VaeInfo(latent_channels=4, fp16_fix=rng.random() < 0.5)
    if kind == "lora":
        identity.metadata = {"trigger_words": [f"trig{rng.randrange(1000)}"]}
    return identity


def write_recipes(folder: Path, names: dict, count: int, rng: random.Random) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(count):
        base = rng.choice(BASES)
        side = 512 if base == "sd1" else 1024
        loras = rng.sample(names[("lora", rng.choice(BASES))], 3)
        text = [
            f'checkpoint = "{rng.choice(names[("checkpoint", base)])}"',
            f'vae = "{rng.choice(names[("vae", base)])}"',
            f'prompt = "portrait of a sailor, {", ".join(f"word{j}" for j in range(20))}"',
            'negative_prompt = "blurry, lowres"',
            f"width = {side}\nheight = {side}\nsteps = 25\ncfg_scale = 7.0",
            'sampler = "DPM++ 2M"',
        ]
        for lora in loras:
            text.append(f'[[loras]]\nref = "{lora}"\nweight = 0.7')
        path = folder / f"recipe_{i:03d}.toml"
        path.write_text("\n".join(text) + "\n")
        paths.append(path)
    return paths


def best_of(work) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


if __name__ == "__main__":
    main()
