"""Run the enabled rules over one resolved recipe."""

from __future__ import annotations

from pantry.lint.config import LintConfig
from pantry.lint.context import LintContext
from pantry.lint.findings import AssetRef, Finding, Hit
from pantry.lint.registry import Rule, Severity
from pantry.recipes.model import Recipe, ResolvedRecipe


def lint(
    resolved: ResolvedRecipe,
    config: LintConfig | None = None,
    context: LintContext | None = None,
) -> list[Finding]:
    """Every finding for ``resolved``, ordered by line then code."""
    config = config or LintConfig()
    context = context or LintContext()
    recipe = resolved.recipe
    findings = [
        _finding(rule, config.severity_of(rule), hit, recipe)
        for rule in config.enabled_rules(extra_ignore=recipe.lint_ignore)
        for hit in rule.check(resolved, context)
    ]
    return sorted(findings, key=lambda f: (f.line or 0, f.code, f.message))


def worst(findings: list[Finding]) -> Severity | None:
    return max((f.severity for f in findings), key=lambda s: s.rank, default=None)


def _finding(rule: Rule, severity: Severity, hit: Hit, recipe: Recipe) -> Finding:
    return Finding(
        code=rule.code,
        name=rule.name,
        family=rule.family,
        severity=severity,
        message=hit.message,
        file=recipe.source,
        line=_line_of(hit, recipe),
        assets=[AssetRef.of(r) for r in hit.assets],
    )


def _line_of(hit: Hit, recipe: Recipe) -> int | None:
    # A field named by the rule wins; then the line of the first asset that has one.
    if hit.field and hit.field in recipe.lines:
        return recipe.lines[hit.field]
    for resolution in hit.assets:
        if resolution.line:
            return resolution.line
    return recipe.lines.get("checkpoint")
