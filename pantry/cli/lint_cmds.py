"""``pantry lint``, ``pantry rules``, ``pantry rule``: a thin layer over pantry.lint."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console

from pantry.cli.common import error_line, fail
from pantry.cli.common import open_existing_catalog as _open_existing_catalog
from pantry.errors import PantryError
from pantry.lint.context import DTYPES, LintContext
from pantry.lint.registry import Severity, all_rules, get_rule

EXIT_CLEAN, EXIT_FINDINGS, EXIT_NOT_CHECKED = 0, 1, 2


def register(group: click.Group) -> None:
    group.add_command(lint_command)
    group.add_command(rules_command)
    group.add_command(rule_command)


@click.command("lint")
@click.argument("recipes", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="Report format; json follows pantry.lint.schema, sarif is SARIF 2.1.0.",
)
@click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@click.option("--catalog", "catalog_path", help="Catalog file or SQLAlchemy URL.")
@click.option(
    "--dtype",
    type=click.Choice(DTYPES),
    default="fp16",
    show_default=True,
    help="Precision the render will use (fp16 checks the SDXL VAE overflow).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here.")
def lint_command(
    recipes: tuple[Path, ...],
    output_format: str,
    fail_on: str,
    catalog_path: str | None,
    dtype: str,
    output: Path | None,
) -> None:
    """Check recipes before rendering: assets, compatibility, style, settings, prompt.

    Exit status: 0 clean, 1 findings at or above --fail-on, 2 a recipe could not be checked.
    """
    from pantry.lint.files import lint_files
    from pantry.lint.report import Outcome

    try:
        catalog = _open_existing_catalog(catalog_path)
    except PantryError as error:
        outcomes = [Outcome(path, error=str(error)) for path in recipes]
    else:
        try:
            outcomes = lint_files(list(recipes), catalog, LintContext(dtype=dtype))
        finally:
            catalog.close()

    _write_report(outcomes, output_format, output)
    # One line per fault: a catalog that cannot be opened fails every recipe the same way.
    for message in dict.fromkeys(o.error for o in outcomes if o.error):
        error_line(message)
    sys.exit(_exit_code(outcomes, Severity(fail_on)))


@click.command("rules")
@click.option("--json", "as_json", is_flag=True, help="Print the rule registry as JSON.")
def rules_command(as_json: bool) -> None:
    """List every lint rule: code, name, family, default severity, summary."""
    from pantry.lint.report import rules_json

    if as_json:
        click.echo(json.dumps(rules_json(), indent=2))
        return
    rules = all_rules()
    width = max(len(r.name) for r in rules)
    for r in rules:
        click.echo(
            f"{r.code}  {r.name:<{width}}  {r.family.value:<13}  {r.severity.value:<7}  {r.summary}"
        )


@click.command("rule")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the rule as JSON (one rules entry).")
def rule_command(code: str, as_json: bool) -> None:
    """Explain one lint rule (by code, e.g. PC201, or name, e.g. lora-base-mismatch)."""
    found = get_rule(code)
    if found is None:
        fail(f"no rule {code!r} (see `pantry rules`)", EXIT_NOT_CHECKED)
    if as_json:
        click.echo(json.dumps(found.to_json(), indent=2))
        return
    click.echo(f"{found.code} {found.name}")
    click.echo(f"family: {found.family.value}    default severity: {found.severity.value}")
    click.echo("")
    click.echo(found.summary + ".")
    click.echo("")
    click.echo(found.explanation)


def _write_report(outcomes: list, output_format: str, output: Path | None) -> None:
    from pantry.lint.report import to_json, to_sarif, write_text

    if output_format == "text":
        if output is None:
            write_text(outcomes, Console(soft_wrap=True, highlight=False))
            return
        with output.open("w", encoding="utf-8") as f:
            write_text(outcomes, Console(file=f, soft_wrap=True, highlight=False, no_color=True))
        return
    document = to_json(outcomes) if output_format == "json" else to_sarif(outcomes)
    text = json.dumps(document, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _exit_code(outcomes: list, fail_on: Severity) -> int:
    if any(o.error for o in outcomes):
        return EXIT_NOT_CHECKED
    if any(f.severity.rank >= fail_on.rank for o in outcomes for f in o.findings):
        return EXIT_FINDINGS
    return EXIT_CLEAN
