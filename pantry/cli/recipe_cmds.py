"""``pantry recipe``: turn image infotext into recipe TOML and back, and show a recipe."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pantry.cli.common import err, fail, out, print_json
from pantry.errors import PantryError

CATALOG_HELP = "Catalog file or SQLAlchemy URL to match names and hashes against."


def register(group: click.Group) -> None:
    group.add_command(recipe)


@click.group()
def recipe() -> None:
    """Convert recipes to and from A1111 infotext; show what a recipe names."""


@recipe.command("from-png")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.option("--catalog", "catalog_path", help=CATALOG_HELP)
@click.option("--no-catalog", is_flag=True, help="Do not match resources against the catalog.")
def from_png(image: Path, output: Path | None, catalog_path: str | None, no_catalog: bool) -> None:
    """Recipe TOML from the generation parameters embedded in IMAGE (PNG, JPEG, WEBP)."""
    from pantry.recipes.image_meta import read_png_infotext

    try:
        text = read_png_infotext(image)
    except PantryError as exc:
        fail(str(exc))
    _emit_recipe(text, image, output, catalog_path, no_catalog)


@recipe.command("from-text")
@click.argument("source", metavar="FILE|-")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.option("--catalog", "catalog_path", help=CATALOG_HELP)
@click.option("--no-catalog", is_flag=True, help="Do not match resources against the catalog.")
def from_text(source: str, output: Path | None, catalog_path: str | None, no_catalog: bool) -> None:
    """Recipe TOML from A1111 infotext in FILE (or stdin with -)."""
    if source == "-":
        text, origin = sys.stdin.read(), "<stdin>"
    else:
        try:
            text = Path(source).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            fail(f"{source}: cannot read ({exc.strerror or exc})")
        origin = source
    _emit_recipe(text, origin, output, catalog_path, no_catalog)


@recipe.command("to-text")
@click.argument("recipe_file", metavar="RECIPE.toml", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.option("--catalog", "catalog_path", help="Catalog to take model/LoRA hashes from.")
@click.option("--no-catalog", is_flag=True, help="Write only the hashes the recipe already has.")
def to_text(
    recipe_file: Path, output: Path | None, catalog_path: str | None, no_catalog: bool
) -> None:
    """A1111 infotext for RECIPE.toml (what A1111's "Read generation parameters" reads)."""
    from pantry.recipes.infotext import hashes_from_resolved, write_infotext
    from pantry.recipes.resolve import resolve
    from pantry.recipes.toml_io import load_recipe

    try:
        parsed = load_recipe(recipe_file)
    except PantryError as exc:
        fail(str(exc))
    hashes = None
    catalog = None if no_catalog else _open_catalog(catalog_path)
    if catalog is not None:
        with catalog:
            resolved = resolve(parsed, catalog)
            hashes = hashes_from_resolved(resolved)
            _report_problems(resolved)
    _write_document(write_infotext(parsed, hashes) + "\n", output)


@recipe.command("show")
@click.argument("recipe_file", metavar="RECIPE.toml", type=click.Path(path_type=Path))
@click.option("--catalog", "catalog_path", help=CATALOG_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def show(recipe_file: Path, catalog_path: str | None, as_json: bool) -> None:
    """What RECIPE.toml names, looked up in the catalog, and its prompt token chunks."""
    from pantry.recipes.resolve import resolve
    from pantry.recipes.tokens import chunks
    from pantry.recipes.toml_io import load_recipe

    try:
        parsed = load_recipe(recipe_file)
    except PantryError as exc:
        fail(str(exc))
    catalog = _open_catalog(catalog_path, required=True)
    with catalog:
        resolved = resolve(parsed, catalog)
    rows = [
        {
            "slot": item.slot,
            "ref": item.ref,
            "line": item.line,
            "asset": str(item.asset.path) if item.asset is not None else None,
            "problem": item.problem,
            "detail": item.detail,
            "candidates": [str(c.path) for c in item.candidates],
        }
        for item in resolved.all()
    ]
    tokens = {"prompt": chunks(parsed.prompt), "negative_prompt": chunks(parsed.negative_prompt)}
    if as_json:
        print_json({"recipe": str(recipe_file), "resources": rows, "token_chunks": tokens})
        return
    for row in rows:
        where = row["asset"] or f"[red]{row['problem']}[/]: {row['detail']}"
        out.print(f"{row['slot']:<10} {row['ref']} -> {where}")
    for name, counts in tokens.items():
        out.print(f"{name:<10} tokens per 75-token chunk: {counts}")


def _emit_recipe(
    text: str, origin: object, output: Path | None, catalog_path: str | None, no_catalog: bool
) -> None:
    from pantry.recipes.infotext import parse_infotext
    from pantry.recipes.toml_io import dump_recipe

    catalog = None if no_catalog else _open_catalog(catalog_path)
    try:
        if catalog is not None:
            with catalog:
                parsed = parse_infotext(text, catalog=catalog, source=str(origin))
        else:
            parsed = parse_infotext(text, source=str(origin))
    except PantryError as exc:
        fail(str(exc))
    for note in parsed.report.notes:
        err.print(f"note: {note}", markup=False)
    for item in parsed.report.unmatched:
        err.print(f"unresolved: {item}", markup=False)
    _write_document(dump_recipe(parsed.recipe), output)


def _report_problems(resolved) -> None:
    for item in resolved.all():
        if item.problem:
            err.print(f"unresolved: {item.slot} {item.ref!r}: {item.detail}", markup=False)


def _open_catalog(path: str | None, required: bool = False):
    from pantry.catalog import Catalog

    try:
        return Catalog.open(path)
    except PantryError as exc:
        if required:
            fail(str(exc))
        err.print(f"warning: catalog not available ({exc}); names are not checked", markup=False)
        return None


def _write_document(document: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(document)
        return
    try:
        output.write_text(document, encoding="utf-8")
    except OSError as exc:
        fail(f"{output}: cannot write ({exc.strerror or exc})")
    err.print(f"wrote {output}", markup=False)
