"""Pre-flight lint: rules over a ResolvedRecipe, a registry, a runner and reporters.

from pantry.lint import lint, find_config, LintContext
findings = lint(resolved, find_config(recipe_dir), LintContext(dtype="fp16"))
"""

from pantry.lint.config import LintConfig, config_from_table, find_config
from pantry.lint.context import LintContext
from pantry.lint.findings import AssetRef, Finding, Hit
from pantry.lint.registry import Family, Rule, Severity, all_rules, get_rule
from pantry.lint.runner import lint, worst

__all__ = [
    "AssetRef",
    "Family",
    "Finding",
    "Hit",
    "LintConfig",
    "LintContext",
    "Rule",
    "Severity",
    "all_rules",
    "config_from_table",
    "find_config",
    "get_rule",
    "lint",
    "worst",
]
