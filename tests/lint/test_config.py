"""Configuration: select, ignore, severity overrides, where config is found, bad config."""

from __future__ import annotations

import pytest

from pantry.errors import PantryError
from pantry.lint import LintConfig, config_from_table, find_config, lint
from tests.lint import builders as b


def broken_recipe(**fields):
    # PT404 (error), PT407 (warning), PT402 is not involved: SD1 checkpoint.
    return b.recipe_with(b.realistic_vision(), width=500, cfg_scale=40.0, **fields)


def codes(resolved, config):
    return sorted(f.code for f in lint(resolved, config, b.quiet_context()))


def test_default_config_runs_every_rule():
    assert codes(broken_recipe(), LintConfig()) == ["PT404", "PT407"]


def test_select_by_family_prefix():
    config = config_from_table({"select": ["PT40"], "ignore": ["PT407"]})
    assert codes(broken_recipe(), config) == ["PT404"]


def test_select_excludes_other_families():
    assert codes(broken_recipe(), config_from_table({"select": ["PA", "PC"]})) == []


def test_severity_override_changes_the_finding():
    config = config_from_table({"severity": {"pt407": "error"}})
    severities = {f.code: f.severity for f in lint(broken_recipe(), config, b.quiet_context())}
    assert severities == {"PT404": "error", "PT407": "error"}


def test_recipe_lint_ignore_drops_its_codes():
    assert codes(broken_recipe(lint_ignore=["pt404"]), LintConfig()) == ["PT407"]


@pytest.mark.parametrize(
    "table, message",
    [
        ({"selekt": ["PA"]}, "unknown lint setting 'selekt'"),
        ({"ignore": ["PZ999"]}, "no lint rule matches 'PZ999'"),
        ({"ignore": "PA101"}, "must be a list"),
        ({"severity": {"PA101": "fatal"}}, "must be error, warning or info"),
        ({"severity": {"PA1": "error"}}, "no lint rule matches 'PA1'"),
    ],
)
def test_bad_config_is_a_one_line_error_naming_the_file(tmp_path, table, message):
    source = tmp_path / "pantry.toml"
    with pytest.raises(PantryError, match=message) as caught:
        config_from_table(table, source)
    assert str(caught.value).startswith(str(source)) and "\n" not in str(caught.value)


def test_pantry_toml_found_by_walking_up(tmp_path):
    (tmp_path / "pantry.toml").write_text('[lint]\nignore = ["PT407"]\n')
    nested = tmp_path / "recipes" / "portraits"
    nested.mkdir(parents=True)
    config = find_config(nested)
    assert config.ignore == ["PT407"] and config.source == tmp_path / "pantry.toml"


def test_pyproject_tool_table_is_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.pantry.lint]\nselect = ["PC"]\n'
        '[tool.pantry.lint.severity]\nPS301 = "error"\n'
    )
    config = find_config(tmp_path)
    assert config.select == ["PC"] and config.severity == {"PS301": "error"}


def test_pyproject_without_pantry_table_keeps_walking(tmp_path):
    (tmp_path / "pantry.toml").write_text('[lint]\nignore = ["PP501"]\n')
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config(project).ignore == ["PP501"]


def test_nearest_config_wins(tmp_path):
    (tmp_path / "pantry.toml").write_text('[lint]\nignore = ["PP501"]\n')
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pantry.toml").write_text('[lint]\nignore = ["PT404"]\n')
    assert find_config(inner).ignore == ["PT404"]


def test_unparsable_config_names_the_file(tmp_path):
    (tmp_path / "pantry.toml").write_text("[lint\n")
    with pytest.raises(PantryError, match=r"pantry\.toml: cannot read lint config"):
        find_config(tmp_path)
