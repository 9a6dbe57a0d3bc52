"""Bad input never shows a traceback: exit 2 and one line on stderr naming the file or REF.

The convention (DESIGN.md, "Command-line conventions"): 0 success, 1 the check found
problems, 2 usage or input errors, each with a one-line message naming the file and fault.
"""

import json
import os

import pytest

from tests.cli.support import assert_one_line_error, pantry, write
from tests.fixtures.modelfiles import write_model

TRUNCATED_HEADER = b"\x00\x01\x00\x00\x00\x00\x00\x00{}"  # promises 256 header bytes, has 2
BAD_JSON_HEADER = b"\x10\x00\x00\x00\x00\x00\x00\x00{not json"


@pytest.fixture
def catalog(tmp_path):
    """A catalog holding two LoRAs named alike and one SD1.5 checkpoint."""
    models = tmp_path / "models"
    write_model(models / "a", "kohya_sd15_lora", filename="detail.safetensors")
    write_model(models / "b", "kohya_sd15_lora", filename="detail.safetensors")
    write_model(models, "sd15_checkpoint", filename="realistic.safetensors")
    path = tmp_path / "catalog.db"
    assert pantry("scan", models, "--catalog", path).exit_code == 0
    return path


# -- model files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, fault",
    [
        (None, "no such file"),
        (b"", "empty"),
        (TRUNCATED_HEADER, ""),
        (BAD_JSON_HEADER, ""),
        (b"\xff" * 64, "header length"),
    ],
    ids=["missing", "empty", "truncated", "bad-json", "absurd-length"],
)
def test_inspect_names_the_unreadable_file(tmp_path, content, fault):
    path = tmp_path / "model.safetensors"
    if content is not None:
        path.write_bytes(content)
    line = assert_one_line_error(pantry("inspect", path), 2, path)
    assert fault in line


def test_inspect_of_a_folder_without_models_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    write(tmp_path / "empty" / "notes.txt", "not a model")
    line = assert_one_line_error(pantry("inspect", tmp_path / "empty"), 2, tmp_path / "empty")
    assert "no model files" in line


def test_scan_of_a_missing_folder_fails_and_is_not_remembered(tmp_path):
    missing = tmp_path / "no-such-folder"
    assert_one_line_error(pantry("scan", missing), 2, missing)
    # Nothing was remembered: a bare rescan has no folder to go back to.
    assert_one_line_error(pantry("scan"), 2, "no folders to scan")


def test_scan_catalogues_a_corrupt_file_as_unreadable_and_succeeds(tmp_path):
    write(tmp_path / "models" / "bad.safetensors", BAD_JSON_HEADER)
    result = pantry("scan", tmp_path / "models", "--json")
    assert result.exit_code == 0, result.output
    assert '"unreadable": 1' in result.stdout


# -- where the catalog is -------------------------------------------------------------------

CATALOG_COMMANDS = [
    ["scan", "."],
    ["ls"],
    ["show", "x"],
    ["search", "x"],
    ["dupes"],
    ["tag", "x", "+y"],
    ["set", "x", "base=sd1"],
    ["hash", "--all"],
    ["verify"],
    ["prune"],
    ["db", "current"],
    ["db", "upgrade"],
]


@pytest.mark.parametrize("command", CATALOG_COMMANDS, ids=" ".join)
def test_catalog_that_cannot_be_created_is_named(tmp_path, command):
    blocker = write(tmp_path / "a-file", "a file where a folder should be")
    target = blocker / "catalog.db"
    assert_one_line_error(pantry(*command, "--catalog", target), 2, target)


@pytest.mark.parametrize("command", CATALOG_COMMANDS, ids=" ".join)
def test_a_file_that_is_not_a_catalog_is_named(tmp_path, command):
    notes = write(tmp_path / "notes.db", "these are notes, not a database" * 100)
    line = assert_one_line_error(pantry(*command, "--catalog", notes), 2, notes)
    assert "not a database" in line


@pytest.mark.parametrize("command", [["ls"], ["lint", "r.toml"], ["db", "current"]], ids=" ".join)
def test_garbage_database_url_is_one_line_without_the_password(tmp_path, monkeypatch, command):
    write(tmp_path / "r.toml", 'checkpoint = "x"\n')
    monkeypatch.setenv("PANTRY_DATABASE_URL", "nosuchdb://user:s3cret@host/db")
    line = assert_one_line_error(pantry(*command), 2, "nosuchdb://user:")
    assert "s3cret" not in line


def test_database_url_whose_driver_is_not_installed_is_one_line(monkeypatch):
    monkeypatch.setenv("PANTRY_DATABASE_URL", "postgresql+nosuchdriver://host/db")
    assert_one_line_error(pantry("ls"), 2, "postgresql+nosuchdriver://host/db")


def test_read_only_catalog_is_reported_as_such(catalog, tmp_path):
    # SQLite's own read-only mode: the same refusal a read-only file or folder gives,
    # and it holds even for root, who ignores file permissions.
    read_only = f"sqlite:///file:{catalog}?mode=ro&uri=true"
    line = assert_one_line_error(pantry("scan", tmp_path / "models", "--catalog", read_only), 2)
    assert "read-only" in line
    assert pantry("ls", "--catalog", read_only).exit_code == 0  # reading still works


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes through permissions"
)
def test_catalog_in_a_read_only_folder_is_named(catalog, tmp_path):
    folder = catalog.parent
    folder.chmod(0o555)
    catalog.chmod(0o444)
    try:
        result = pantry("scan", tmp_path / "models", "--catalog", catalog)
    finally:
        folder.chmod(0o755)
        catalog.chmod(0o644)
    assert_one_line_error(result, 2, catalog)


# -- REFs and edits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["show"], ["tag", "+x"], ["set", "base=sd1"], ["hash"], ["verify"]],
    ids=lambda c: c[0],
)
def test_unknown_ref_is_named(catalog, command):
    name, *rest = command
    result = pantry(name, "nothing_like_it", *rest, "--catalog", catalog)
    assert_one_line_error(result, 2, "nothing_like_it")


def test_ambiguous_ref_names_every_candidate_on_one_line(catalog, tmp_path):
    line = assert_one_line_error(pantry("show", "detail", "--catalog", catalog), 2, "ambiguous")
    assert str(tmp_path / "models" / "a") in line and str(tmp_path / "models" / "b") in line


@pytest.mark.parametrize(
    "assignment, fault",
    [
        ("base", "FIELD=VALUE"),
        ("=sdxl", "FIELD=VALUE"),
        ("colour=red", "'colour'"),
        ("base=sd9", "'sd9'"),
        ("kind=potato", "'potato'"),
    ],
)
def test_bad_set_syntax_or_value_is_one_line(catalog, assignment, fault):
    result = pantry("set", "realistic", assignment, "--catalog", catalog)
    assert fault in assert_one_line_error(result, 2)


@pytest.mark.parametrize("change", ["+", "-", "+two words"])
def test_bad_tag_is_one_line(catalog, change):
    result = pantry("tag", "realistic", change, "--catalog", catalog)
    assert_one_line_error(result, 2, "tag")


def test_hash_without_refs_asks_for_them(catalog):
    assert_one_line_error(pantry("hash", "--catalog", catalog), 2, "--all")


@pytest.mark.parametrize("option", ["--kind", "--base"])
def test_ls_filter_outside_the_vocabulary_is_a_usage_error(catalog, option):
    result = pantry("ls", option, "bogus", "--catalog", catalog)
    assert_one_line_error(result, 2, "'bogus'", "--help")


# -- recipes and lint -----------------------------------------------------------------------

BAD_RECIPES = {
    "syntax": ('checkpoint = "x"\nsteps = [\n', "TOML"),
    "unknown-key": ('checkpoint = "x"\nstepz = 20\n', "'stepz'"),
    "wrong-type": ('checkpoint = "x"\nsteps = "many"\n', "steps"),
    "no-checkpoint": ('prompt = "a cat"\n', "checkpoint"),
    "not-utf8": (b'checkpoint = "\xff\xfe"\n', ""),
}


@pytest.fixture(params=sorted(BAD_RECIPES))
def bad_recipe(request, tmp_path):
    content, fault = BAD_RECIPES[request.param]
    return write(tmp_path / f"{request.param}.toml", content), fault


def test_lint_names_the_bad_recipe(bad_recipe, catalog):
    path, fault = bad_recipe
    line = assert_one_line_error(pantry("lint", path, "--catalog", catalog), 2, path)
    assert fault in line


def test_recipe_to_text_names_the_bad_recipe(bad_recipe):
    path, fault = bad_recipe
    line = assert_one_line_error(pantry("recipe", "to-text", path, "--no-catalog"), 2, path)
    assert fault in line


def test_recipe_show_names_the_bad_recipe(bad_recipe, catalog):
    path, fault = bad_recipe
    result = pantry("recipe", "show", path, "--catalog", catalog)
    assert fault in assert_one_line_error(result, 2, path)


@pytest.mark.parametrize("command", [["lint"], ["recipe", "to-text"], ["recipe", "show"]])
def test_recipe_that_is_missing_or_a_folder_is_named(tmp_path, catalog, command):
    for path in (tmp_path / "absent.toml", tmp_path):
        assert_one_line_error(pantry(*command, path, "--catalog", catalog), 2, path)


def test_lint_reports_each_bad_recipe_and_still_checks_the_good_one(tmp_path, catalog):
    good = write(tmp_path / "good.toml", 'checkpoint = "realistic"\nprompt = "a cat"\n')
    bad = write(tmp_path / "bad.toml", 'checkpoint = "x"\nstepz = 1\n')
    result = pantry("lint", good, bad, "--catalog", catalog, "--format", "json")
    line = assert_one_line_error(result, 2, f"{bad}:2: unknown key 'stepz'")
    assert str(good) not in line
    report = json.loads(result.stdout)
    assert [entry["file"] for entry in report["not_checked"]] == [str(bad)]
    assert report["summary"]["checked"] == 1


def test_lint_without_a_catalog_says_to_scan_first(tmp_path):
    recipe = write(tmp_path / "r.toml", 'checkpoint = "x"\n')
    missing = tmp_path / "never-scanned.db"
    line = assert_one_line_error(pantry("lint", recipe, "--catalog", missing), 2, missing)
    assert "pantry scan" in line
    assert not missing.exists()  # linting did not create an empty catalog


def test_lint_with_a_broken_catalog_says_so_once_for_many_recipes(tmp_path, monkeypatch):
    recipes = [write(tmp_path / f"r{i}.toml", 'checkpoint = "x"\n') for i in range(3)]
    monkeypatch.setenv("PANTRY_DATABASE_URL", "nosuchdb://host/db")
    assert_one_line_error(pantry("lint", *recipes), 2, "nosuchdb://host/db")


@pytest.mark.parametrize(
    "option, value", [("--fail-on", "fatal"), ("--format", "xml"), ("--dtype", "fp13")]
)
def test_lint_bad_option_value_is_one_usage_line(tmp_path, option, value):
    recipe = write(tmp_path / "r.toml", 'checkpoint = "x"\n')
    assert_one_line_error(pantry("lint", recipe, option, value), 2, option, value, "--help")


def test_lint_report_that_cannot_be_written_is_named(tmp_path, catalog):
    recipe = write(tmp_path / "r.toml", 'checkpoint = "realistic"\n')
    target = tmp_path / "no-such-folder" / "report.json"
    result = pantry("lint", recipe, "--catalog", catalog, "--format", "json", "-o", target)
    assert_one_line_error(result, 2, target)


def test_unknown_rule_code_is_named():
    assert_one_line_error(pantry("rule", "PX999"), 2, "PX999")


def test_lint_without_recipes_is_one_usage_line():
    assert_one_line_error(pantry("lint"), 2, "RECIPES", "--help")


def test_unknown_command_and_option_are_one_usage_line():
    assert_one_line_error(pantry("scna"), 2, "scna")
    assert_one_line_error(pantry("ls", "--colour"), 2, "--colour")


# -- recipe conversion ----------------------------------------------------------------------


def test_from_png_of_a_file_that_is_not_an_image(tmp_path):
    text = write(tmp_path / "photo.png", "plain text with a .png name")
    assert_one_line_error(pantry("recipe", "from-png", text, "--no-catalog"), 2, text)


def test_from_png_of_an_image_without_parameters(tmp_path):
    from PIL import Image

    image = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(image)
    assert_one_line_error(pantry("recipe", "from-png", image, "--no-catalog"), 2, image)


@pytest.mark.parametrize("path", ["absent.png", "."], ids=["missing", "folder"])
def test_from_png_of_a_missing_file_or_folder(tmp_path, path):
    target = tmp_path / path if path != "." else tmp_path
    assert_one_line_error(pantry("recipe", "from-png", target, "--no-catalog"), 2, target.name)


@pytest.mark.parametrize("stdin", ["", "\n  \n"], ids=["empty", "blank"])
def test_from_text_of_empty_stdin(stdin):
    result = pantry("recipe", "from-text", "-", "--no-catalog", stdin=stdin)
    assert_one_line_error(result, 2, "<stdin>")


def test_from_text_of_a_missing_file(tmp_path):
    missing = tmp_path / "absent.txt"
    assert_one_line_error(pantry("recipe", "from-text", missing, "--no-catalog"), 2, missing)


def test_recipe_output_into_a_folder_is_named(tmp_path):
    recipe = write(tmp_path / "r.toml", 'checkpoint = "x"\n')
    result = pantry("recipe", "to-text", recipe, "--no-catalog", "-o", tmp_path)
    assert_one_line_error(result, 2, tmp_path.name)


# -- render and pull ------------------------------------------------------------------------


def test_render_without_a_catalog_says_to_scan_first(tmp_path):
    recipe = write(tmp_path / "r.toml", 'checkpoint = "x"\n')
    missing = tmp_path / "never-scanned.db"
    line = assert_one_line_error(pantry("render", recipe, "--catalog", missing), 2, missing)
    assert "pantry scan" in line


@pytest.mark.parametrize("repo", ["not a repo!!", "a/b/c/d", "owner/-bad-", "owner//x"])
def test_pull_malformed_repo_id_is_named_before_any_network(repo):
    line = assert_one_line_error(pantry("pull", repo), 2, repr(repo))
    assert "offline" not in line


@pytest.mark.parametrize("ref", ["hf://owner", "hf://owner/repo", "hf://owner/repo/file@"])
def test_pull_malformed_hf_ref_is_named(ref):
    assert_one_line_error(pantry("pull", ref), 2, ref)


def test_pull_offline_says_so():
    assert_one_line_error(pantry("pull", "owner/repo"), 2, "offline", "owner/repo")
