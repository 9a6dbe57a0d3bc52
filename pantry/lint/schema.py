"""The JSON Schema of ``pantry lint --format json`` (a stable, documented contract).

Top level: ``schema`` ("pantry.lint/1"), ``pantry_version``, ``findings`` (one object per
finding, any recipe), ``not_checked`` (recipes that could not be checked, with a one-line
message) and ``summary`` (counts). ``pantry rules --json`` follows RULES_SCHEMA.
"""

from __future__ import annotations

_SEVERITY = {"enum": ["error", "warning", "info"]}
_FAMILY = {"enum": ["assets", "compatibility", "style", "settings", "prompt", "integrity"]}
_CODE = {"type": "string", "pattern": "^P[ACSTPI][1-6][0-9]{2}$"}

FINDING_SCHEMA = {
    "type": "object",
    "required": ["code", "name", "family", "severity", "message", "file", "line", "assets"],
    "additionalProperties": False,
    "properties": {
        "code": _CODE,
        "name": {"type": "string"},
        "family": _FAMILY,
        "severity": _SEVERITY,
        "message": {"type": "string", "minLength": 1},
        "file": {"type": ["string", "null"]},
        "line": {"type": ["integer", "null"], "minimum": 1},
        "assets": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["slot", "ref", "asset_id", "path"],
                "additionalProperties": False,
                "properties": {
                    "slot": {"type": "string"},
                    "ref": {"type": "string"},
                    "asset_id": {"type": ["integer", "null"]},
                    "path": {"type": ["string", "null"]},
                },
            },
        },
    },
}

LINT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema", "pantry_version", "findings", "not_checked", "summary"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": "pantry.lint/1"},
        "pantry_version": {"type": "string"},
        "findings": {"type": "array", "items": FINDING_SCHEMA},
        "not_checked": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["file", "message"],
                "additionalProperties": False,
                "properties": {"file": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "summary": {
            "type": "object",
            "required": ["files", "checked", "error", "warning", "info"],
            "additionalProperties": False,
            "properties": {
                k: {"type": "integer", "minimum": 0}
                for k in ("files", "checked", "error", "warning", "info")
            },
        },
    },
}

RULES_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema", "rules"],
    "properties": {
        "schema": {"const": "pantry.rules/1"},
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name", "family", "severity", "summary", "explanation"],
                "additionalProperties": False,
                "properties": {
                    "code": _CODE,
                    "name": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
                    "family": _FAMILY,
                    "severity": _SEVERITY,
                    "summary": {"type": "string", "minLength": 1},
                    "explanation": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}
