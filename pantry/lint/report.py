"""Reporters: text for people, JSON (schema in pantry.lint.schema) and SARIF 2.1.0 for tools."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from pantry import __version__
from pantry.lint.findings import Finding
from pantry.lint.registry import Severity, all_rules

JSON_SCHEMA_ID = "pantry.lint/1"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


@dataclass
class Outcome:
    """One recipe file: its findings, or why it could not be checked."""

    file: Path
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    found = [f for o in outcomes for f in o.findings]
    return {
        "files": len(outcomes),
        "checked": sum(1 for o in outcomes if o.error is None),
        **{s.value: sum(1 for f in found if f.severity == s) for s in Severity},
    }


def write_text(outcomes: list[Outcome], console: Console) -> None:
    """``file:line: CODE severity message`` per finding, then a summary line."""
    for outcome in outcomes:
        for f in outcome.findings:
            where = f"{f.file or outcome.file}:{f.line}" if f.line else str(f.file or outcome.file)
            line = Text(f"{where}: ")
            line.append(f.code, style="bold")
            line.append(" ")
            line.append(f.severity.value, style=_STYLES[f.severity])
            line.append(f" {f.message}")
            console.print(line)
    total = counts(outcomes)
    found = total["error"] + total["warning"] + total["info"]
    if found:
        console.print(
            f"Found {found} problem{'s' * (found != 1)} ({total['error']} error, "
            f"{total['warning']} warning, {total['info']} info) in {total['checked']} "
            f"recipe{'s' * (total['checked'] != 1)}."
        )
    elif total["checked"]:
        console.print(f"All clear: {total['checked']} recipe{'s' * (total['checked'] != 1)}.")


def to_json(outcomes: list[Outcome]) -> dict[str, Any]:
    return {
        "schema": JSON_SCHEMA_ID,
        "pantry_version": __version__,
        "findings": [f.to_json() for o in outcomes for f in o.findings],
        "not_checked": [{"file": str(o.file), "message": o.error} for o in outcomes if o.error],
        "summary": counts(outcomes),
    }


def rules_json() -> dict[str, Any]:
    return {"schema": "pantry.rules/1", "rules": [r.to_json() for r in all_rules()]}


def to_sarif(outcomes: list[Outcome]) -> dict[str, Any]:
    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "pantry",
                "version": __version__,
                "informationUri": "https://pypi.org/project/pantry/",
                "rules": [_sarif_rule(r) for r in rules],
            }
        },
        "results": [_sarif_result(f, o.file, index) for o in outcomes for f in o.findings],
        "invocations": [
            {
                "executionSuccessful": all(o.error is None for o in outcomes),
                "toolExecutionNotifications": [
                    {
                        "level": "error",
                        "message": {"text": o.error},
                        "locations": [_location(o.file, None)],
                    }
                    for o in outcomes
                    if o.error
                ],
            }
        ],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _sarif_rule(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.explanation},
        "help": {"text": rule.explanation},
        "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        "properties": {"family": rule.family.value},
    }


def _sarif_result(finding: Finding, file: Path, index: dict[str, int]) -> dict[str, Any]:
    return {
        "ruleId": finding.code,
        "ruleIndex": index[finding.code],
        "level": SARIF_LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [_location(finding.file or file, finding.line)],
        "properties": {"assets": [vars(a).copy() for a in finding.assets]},
    }


def _location(file: Path, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(file)}
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _artifact(file: Path) -> dict[str, str]:
    # Code-scanning services want paths relative to the checkout; elsewhere, a file URI.
    absolute = Path(os.path.abspath(file))
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": relative.as_posix(), "uriBaseId": "%SRCROOT%"}
