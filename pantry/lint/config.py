"""Lint configuration: which rules run and how severe each is.

Found by walking up from the recipe's folder to the first ``pantry.toml`` (its ``[lint]``
table) or ``pyproject.toml`` with a ``[tool.pantry.lint]`` table::

    [lint]                       # [tool.pantry.lint] in pyproject.toml
    select = ["ALL"]             # codes or code prefixes: "PT", "PT4", "PT401"
    ignore = ["PP501"]
    [lint.severity]              # [tool.pantry.lint.severity]
    PS301 = "error"

A recipe adds its own ``[lint] ignore = [...]`` (``Recipe.lint_ignore``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pantry.errors import PantryError
from pantry.lint.registry import Rule, Severity, all_rules

SELECT_ALL = "ALL"
_KEYS = {"select", "ignore", "severity"}


@dataclass
class LintConfig:
    select: list[str] = field(default_factory=lambda: [SELECT_ALL])
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    source: Path | None = None  # the file it came from, for messages

    def enabled_rules(self, extra_ignore: Iterable[str] = ()) -> list[Rule]:
        ignore = [*self.ignore, *(code.upper() for code in extra_ignore)]
        return [
            r for r in all_rules() if _matches(r.code, self.select) and not _matches(r.code, ignore)
        ]

    def severity_of(self, rule: Rule) -> Severity:
        return self.severity.get(rule.code, rule.severity)


def find_config(start: Path) -> LintConfig:
    """The configuration that applies to files in folder ``start`` (defaults if none)."""
    for folder in [start.resolve(), *start.resolve().parents]:
        pantry_toml = folder / "pantry.toml"
        if pantry_toml.is_file():
            return config_from_table(_read_toml(pantry_toml).get("lint", {}), pantry_toml)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("pantry", {}).get("lint")
            if table is not None:
                return config_from_table(table, pyproject)
    return LintConfig()


def config_from_table(table: dict[str, Any], source: Path | None = None) -> LintConfig:
    """Build a LintConfig from a parsed TOML table; unknown keys or codes are errors."""
    where = str(source) if source else "lint config"
    if not isinstance(table, dict):
        raise PantryError(f"{where}: [lint] must be a table")
    unknown = set(table) - _KEYS
    if unknown:
        raise PantryError(f"{where}: unknown lint setting {sorted(unknown)[0]!r}")
    select = _code_list(table.get("select", [SELECT_ALL]), "select", where)
    ignore = _code_list(table.get("ignore", []), "ignore", where)
    severity: dict[str, Severity] = {}
    for code, value in dict(table.get("severity", {})).items():
        _check_selector(code.upper(), where, exact=True)
        try:
            severity[code.upper()] = Severity(str(value).lower())
        except ValueError:
            raise PantryError(
                f"{where}: severity for {code} must be error, warning or info, not {value!r}"
            ) from None
    return LintConfig(select=select, ignore=ignore, severity=severity, source=source)


def check_ignore_codes(codes: Iterable[str], where: str) -> None:
    """Raise if a per-recipe ignore list names a code that no rule has."""
    for code in codes:
        _check_selector(code.upper(), where)


def _code_list(value: Any, key: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PantryError(f"{where}: lint {key} must be a list of rule codes")
    codes = [v.strip().upper() for v in value]
    for code in codes:
        _check_selector(code, where)
    return codes


def _check_selector(code: str, where: str, exact: bool = False) -> None:
    codes = [r.code for r in all_rules()]
    ok = code in codes if exact else code == SELECT_ALL or any(c.startswith(code) for c in codes)
    if not code or not ok:
        raise PantryError(f"{where}: no lint rule matches {code!r} (see `pantry rules`)")


def _matches(code: str, selectors: Iterable[str]) -> bool:
    return any(s == SELECT_ALL or code.startswith(s) for s in selectors)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise PantryError(f"{path}: cannot read lint config: {e}") from None
