"""`pantry lint`, `pantry rules`, `pantry rule`: exit codes, formats, config, errors."""

from __future__ import annotations

import json
import textwrap

import jsonschema
import pytest
from click.testing import CliRunner

from pantry.cli import lint_cmds, main
from pantry.lint.schema import LINT_SCHEMA
from tests.lint import builders as b
from tests.lint.sarif_schema import SARIF_REQUIRED

CLEAN = """\
    checkpoint = "realisticVisionV60"
    prompt = "photo of a lighthouse at dusk, 35mm"
    width = 512
    height = 768
    steps = 25
    cfg_scale = 6.0
    sampler = "DPM++ 2M"
    scheduler = "karras"
"""
WARNING_ONLY = CLEAN.replace("cfg_scale = 6.0", "cfg_scale = 30.0")
BROKEN = CLEAN.replace('"realisticVisionV60"', '"sdxl_base_1.0"').replace(
    "width = 512", "width = 500"
)


@pytest.fixture
def demo_catalog(monkeypatch):
    catalog = b.FakeCatalog(b.demo_assets())
    monkeypatch.setattr(lint_cmds, "_open_existing_catalog", lambda path: catalog)
    return catalog


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_clean_recipe_exits_0(tmp_path, demo_catalog):
    result = run("lint", write(tmp_path, "ok.toml", CLEAN))
    assert result.exit_code == 0, result.output
    assert "All clear: 1 recipe." in result.stdout


def test_error_finding_exits_1_with_file_line_code(tmp_path, demo_catalog):
    recipe = write(tmp_path, "bad.toml", BROKEN)
    result = run("lint", recipe)
    assert result.exit_code == 1
    assert f"{recipe}:3: PT404 error width 500 is not a multiple of 8" in result.stdout


def test_fail_on_sets_the_threshold(tmp_path, demo_catalog):
    recipe = write(tmp_path, "warn.toml", WARNING_ONLY)
    assert run("lint", recipe).exit_code == 0
    assert run("lint", "--fail-on", "warning", recipe).exit_code == 1


def test_unreadable_recipe_exits_2_and_others_still_get_linted(tmp_path, demo_catalog):
    bad = write(tmp_path, "typo.toml", 'checkpont = "x"\n')
    broken = write(tmp_path, "broken.toml", BROKEN)
    result = run("lint", bad, broken)
    assert result.exit_code == 2
    [error] = result.stderr.strip().splitlines()
    assert str(bad) in error and "unknown key 'checkpont'" in error
    assert "PT404" in result.stdout  # the second recipe was still checked


def test_missing_catalog_exits_2_without_creating_one(tmp_path):
    nowhere = tmp_path / "none" / "catalog.db"
    result = run("lint", "--catalog", nowhere, write(tmp_path, "ok.toml", CLEAN))
    assert result.exit_code == 2
    assert "no catalog here" in result.stderr and "Traceback" not in result.output
    assert not nowhere.exists()


def test_json_output_follows_the_schema(tmp_path, demo_catalog):
    result = run("lint", "--format", "json", write(tmp_path, "bad.toml", BROKEN))
    document = json.loads(result.stdout)
    jsonschema.validate(document, LINT_SCHEMA)
    assert "PT404" in {f["code"] for f in document["findings"]}


def test_sarif_output_written_to_a_file(tmp_path, demo_catalog):
    report = tmp_path / "lint.sarif"
    result = run("lint", "--format", "sarif", "-o", report, write(tmp_path, "bad.toml", BROKEN))
    assert result.exit_code == 1 and result.stdout == ""
    log = json.loads(report.read_text())
    jsonschema.validate(log, SARIF_REQUIRED)
    assert "PT404" in {r["ruleId"] for r in log["runs"][0]["results"]}


def test_recipe_lint_ignore_and_folder_config(tmp_path, demo_catalog):
    write(tmp_path, "pantry.toml", '[lint]\nignore = ["PC"]\n')
    recipe = write(tmp_path, "bad.toml", BROKEN + '\n[lint]\nignore = ["PT404"]\n')
    result = run("lint", "--format", "json", recipe)
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert codes and not any(c == "PT404" or c.startswith("PC") for c in codes)


def test_recipe_ignoring_an_unknown_code_cannot_be_checked(tmp_path, demo_catalog):
    recipe = write(tmp_path, "r.toml", CLEAN + '\n[lint]\nignore = ["PX999"]\n')
    result = run("lint", recipe)
    assert result.exit_code == 2 and "PX999" in result.stderr


def test_dtype_option_reaches_the_rules(tmp_path, demo_catalog):
    recipe = write(
        tmp_path,
        "xl.toml",
        CLEAN.replace('"realisticVisionV60"', '"sdxl_base_1.0"')
        .replace("width = 512", "width = 1024")
        .replace("height = 768", "height = 1024")
        + 'vae = "sdxl_vae"\n',
    )
    assert "PI605" in run("lint", recipe).stdout
    assert "PI605" not in run("lint", "--dtype", "fp32", recipe).stdout


def test_rules_lists_every_rule_and_rule_explains_one():
    listing = run("rules")
    assert listing.exit_code == 0 and "PC201  lora-base-mismatch" in listing.stdout
    as_json = json.loads(run("rules", "--json").stdout)
    assert {r["code"] for r in as_json["rules"]} >= {"PA101", "PI605"}
    explained = run("rule", "lora-base-mismatch")
    assert explained.exit_code == 0 and "Example:" in explained.stdout


def test_rule_unknown_code_exits_2():
    result = run("rule", "PZ999")
    assert result.exit_code == 2 and "no rule 'PZ999'" in result.stderr
