"""The rule registry: the one place a lint rule is defined.

A rule is a small function decorated with :func:`rule`. The decorator records its stable code,
kebab-case name, family, default severity and one-line summary; the function's docstring is the
long explanation (with an example) that ``pantry rule CODE``, ``pantry rules``, the JSON output
and the SARIF ``tool.driver.rules`` all read. Nothing else restates rule metadata.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pantry.lint.context import LintContext
    from pantry.lint.findings import Hit
    from pantry.recipes.model import ResolvedRecipe


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; ``--fail-on`` compares ranks."""
        return {"info": 0, "warning": 1, "error": 2}[self.value]


class Family(StrEnum):
    ASSETS = "assets"
    COMPATIBILITY = "compatibility"
    STYLE = "style"
    SETTINGS = "settings"
    PROMPT = "prompt"
    INTEGRITY = "integrity"


# Every code is this prefix plus two digits: PA1xx, PC2xx, ... Codes are never reused.
FAMILY_PREFIX: dict[Family, str] = {
    Family.ASSETS: "PA1",
    Family.COMPATIBILITY: "PC2",
    Family.STYLE: "PS3",
    Family.SETTINGS: "PT4",
    Family.PROMPT: "PP5",
    Family.INTEGRITY: "PI6",
}

Check = Callable[["ResolvedRecipe", "LintContext"], Iterable["Hit"]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    family: Family
    severity: Severity  # the default; config may override it
    summary: str
    explanation: str
    check: Check

    def to_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "name": self.name,
            "family": self.family.value,
            "severity": self.severity.value,
            "summary": self.summary,
            "explanation": self.explanation,
        }


_RULES: dict[str, Rule] = {}


def rule(
    code: str, name: str, family: Family, severity: Severity, summary: str
) -> Callable[[Check], Check]:
    """Register the decorated check function as rule ``code``."""

    def register(check: Check) -> Check:
        if not (code.startswith(FAMILY_PREFIX[family]) and len(code) == 5 and code[3:].isdigit()):
            raise ValueError(f"rule code {code} does not fit family {family.value}")
        if code in _RULES:
            raise ValueError(f"rule code {code} registered twice")
        if not check.__doc__:
            raise ValueError(f"rule {code} needs a docstring: it is the rule's explanation")
        _RULES[code] = Rule(
            code, name, family, severity, summary, inspect.cleandoc(check.__doc__), check
        )
        return check

    return register


def all_rules() -> list[Rule]:
    """Every registered rule, ordered by code."""
    _load_rule_modules()
    return [_RULES[code] for code in sorted(_RULES)]


def get_rule(code: str) -> Rule | None:
    """The rule with this code (case-insensitive) or kebab-case name, or None."""
    _load_rule_modules()
    wanted = code.strip()
    found = _RULES.get(wanted.upper())
    if found:
        return found
    return next((r for r in _RULES.values() if r.name == wanted.lower()), None)


def _load_rule_modules() -> None:
    # Importing the rules package runs every @rule decorator once.
    import pantry.lint.rules  # noqa: F401
