"""Lint recipe files: load, resolve against a catalog, run the rules. One Outcome per file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pantry.errors import PantryError
from pantry.lint.config import check_ignore_codes, find_config
from pantry.lint.context import LintContext
from pantry.lint.report import Outcome
from pantry.lint.runner import lint


def lint_file(path: Path, catalog: Any, context: LintContext) -> Outcome:
    """Findings for one recipe file, or the one-line reason it could not be checked."""
    from pantry.recipes.resolve import resolve
    from pantry.recipes.toml_io import load_recipe

    try:
        recipe = load_recipe(path)
        check_ignore_codes(recipe.lint_ignore, f"{path}: [lint] ignore")
        config = find_config(path.parent)
        return Outcome(path, lint(resolve(recipe, catalog), config, context))
    except PantryError as error:
        return Outcome(path, error=str(error))


def lint_files(
    paths: list[Path], catalog: Any, context: LintContext | None = None
) -> list[Outcome]:
    """Each file in turn; one bad file does not stop the others."""
    context = context or LintContext()
    return [lint_file(path, catalog, context) for path in paths]
