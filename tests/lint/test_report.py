"""Reporters: text lines like mature linters, JSON against its schema, SARIF 2.1.0."""

from __future__ import annotations

import io

import jsonschema
from rich.console import Console

from pantry.lint import LintConfig, all_rules, lint
from pantry.lint.report import Outcome, rules_json, to_json, to_sarif, write_text
from pantry.lint.schema import LINT_SCHEMA, RULES_SCHEMA
from tests.lint import builders as b
from tests.lint.sarif_schema import SARIF_REQUIRED


def outcomes(tmp_path):
    recipe_file = tmp_path / "broken.toml"
    resolved = b.recipe_with(b.sdxl_base(), loras=[b.add_detail()], width=500, height=1024)
    resolved.recipe.source = recipe_file
    findings = lint(resolved, LintConfig(), b.quiet_context())
    return [Outcome(recipe_file, findings), Outcome(tmp_path / "bad.toml", error="bad.toml: boom")]


def test_text_lines_are_file_line_code_severity_message(tmp_path):
    out = io.StringIO()
    write_text(outcomes(tmp_path), Console(file=out, soft_wrap=True, no_color=True))
    lines = out.getvalue().splitlines()
    where = tmp_path / "broken.toml"
    assert any(
        line.startswith(f"{where}:20: PC201 error LoRA 'add_detail' is for sd1") for line in lines
    )
    assert any(line.startswith(f"{where}:7: PT404 error width 500") for line in lines)
    assert lines[-1].startswith("Found ") and "in 1 recipe." in lines[-1]


def test_text_has_no_colour_codes_off_a_terminal(tmp_path):
    out = io.StringIO()
    write_text(outcomes(tmp_path), Console(file=out, soft_wrap=True))
    assert "\x1b[" not in out.getvalue()


def test_json_matches_its_schema(tmp_path):
    document = to_json(outcomes(tmp_path))
    jsonschema.validate(document, LINT_SCHEMA)
    assert document["not_checked"] == [
        {"file": str(tmp_path / "bad.toml"), "message": "bad.toml: boom"}
    ]
    assert document["summary"]["files"] == 2 and document["summary"]["checked"] == 1
    pc201 = next(f for f in document["findings"] if f["code"] == "PC201")
    assert pc201["assets"][0] == {
        "slot": "lora",
        "ref": "add_detail",
        "asset_id": pc201["assets"][0]["asset_id"],
        "path": "/models/add_detail.safetensors",
    }


def test_json_schema_rejects_a_malformed_finding(tmp_path):
    document = to_json(outcomes(tmp_path))
    document["findings"][0]["severity"] = "fatal"
    try:
        jsonschema.validate(document, LINT_SCHEMA)
    except jsonschema.ValidationError:
        return
    raise AssertionError("schema accepted severity 'fatal'")


def test_rules_json_matches_its_schema():
    document = rules_json()
    jsonschema.validate(document, RULES_SCHEMA)
    assert [r["code"] for r in document["rules"]] == [r.code for r in all_rules()]


def test_sarif_has_the_required_parts(tmp_path):
    log = to_sarif(outcomes(tmp_path))
    jsonschema.validate(log, SARIF_REQUIRED)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in all_rules()]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    pt404 = next(r for r in run["results"] if r["ruleId"] == "PT404")
    location = pt404["locations"][0]["physicalLocation"]
    assert location["region"] == {"startLine": 7}
    assert location["artifactLocation"]["uri"].endswith("broken.toml")
    assert run["invocations"][0]["executionSuccessful"] is False


def test_sarif_levels_follow_severity(tmp_path):
    resolved = b.recipe_with(b.sdxl_base(), clip_skip=2, width=1024, height=1024)
    findings = lint(resolved, LintConfig(select=["PT402"]), b.quiet_context())
    [result] = to_sarif([Outcome(tmp_path / "r.toml", findings)])["runs"][0]["results"]
    assert result["level"] == "note"


def test_sarif_uri_is_relative_inside_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = to_sarif(outcomes(tmp_path))
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "broken.toml", "uriBaseId": "%SRCROOT%"}
