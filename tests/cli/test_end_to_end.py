"""The main job end to end on the built-in demo folder: scan, query, edit, lint, convert.

The demo's files are header-faithful and sparse (gigabytes on paper): nothing here hashes
them, which would read every byte.
"""

import json
import os
import re
from pathlib import Path

import pytest

from pantry.demo import build_demo_folder
from pantry.recipes.prompt import strip_extra_networks
from pantry.recipes.toml_io import load_recipe, loads_recipe
from tests.cli.support import pantry

SAMPLES = Path(__file__).resolve().parents[2] / "sample_recipes"
SAMPLE_FILES = sorted(SAMPLES.glob("*.toml"))
EXPECT_LINE = re.compile(r"^# expect:(.*)$", re.MULTILINE)
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}

# What a user who knows these models would say each demo file is: (kind, base).
DEMO_IDENTITIES = {
    "realisticVisionV60": ("checkpoint", "sd1"),
    "animeDream_v3": ("checkpoint", "sd1"),
    "sdxl_base_1.0": ("checkpoint", "sdxl"),
    "ponyDiffusionV6XL": ("checkpoint", "sdxl"),
    "sd_xl_refiner_1.0": ("checkpoint", "sdxl_refiner"),
    "sd15_noVAE_pruned": ("checkpoint", "sd1"),
    "sd15_inpainting": ("checkpoint", "sd1"),
    "add_detail": ("lora", "sd1"),
    "detail_tweaker_xl": ("lora", "sdxl"),
    "animeLineart_sd15": ("lora", "sd1"),
    "flux_realism_lora": ("lora", "flux"),
    "easynegative": ("embedding", "sd1"),
}
# SD1 and SDXL VAEs share every tensor shape: only the kind is knowable from the header.
DEMO_VAES = {"vae-ft-mse-840000-ema-pruned", "sdxl_vae", "sdxl-vae-fp16-fix", "flux_ae"}


def _scanned_demo(root: Path) -> tuple[Path, list[Path]]:
    written = build_demo_folder(root)
    catalog = root / "catalog.db"
    result = pantry("scan", root / "models", "--catalog", catalog, "--json")
    assert result.exit_code == 0, result.output
    return catalog, written


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One scanned demo for the tests that only read it."""
    root = tmp_path_factory.mktemp("demo")
    catalog, written = _scanned_demo(root)
    return {"root": root, "catalog": catalog, "written": written}


@pytest.fixture
def fresh_demo(tmp_path):
    """A demo of its own, for a test that edits the catalog."""
    catalog, _ = _scanned_demo(tmp_path)
    return {"root": tmp_path, "catalog": catalog}


def run(demo, *args):
    result = pantry(*args, "--catalog", demo["catalog"])
    assert "Traceback" not in result.output
    return result


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assets_by_name(demo, *filters):
    return {a["name"]: a for a in as_json(run(demo, "ls", "--json", *filters))}


# -- scan and queries -----------------------------------------------------------------------


def test_scan_catalogues_every_demo_file(tmp_path):
    written = build_demo_folder(tmp_path)
    report = as_json(pantry("scan", tmp_path / "models", "--catalog", tmp_path / "c.db", "--json"))
    assert report["counts"]["new"] == len(written)
    assert report["counts"]["unreadable"] == 0 and report["errors"] == []
    again = as_json(pantry("scan", "--catalog", tmp_path / "c.db", "--json"))
    assert again["counts"]["unchanged"] == len(written) and again["counts"]["new"] == 0


def test_ls_knows_what_each_demo_file_is(demo):
    assets = assets_by_name(demo)
    assert len(assets) == len(demo["written"])
    for name, (kind, base) in DEMO_IDENTITIES.items():
        assert (assets[name]["kind"], assets[name]["base"]) == (kind, base), name
    for name in DEMO_VAES:
        assert assets[name]["kind"] == "vae", name


def test_ls_shows_lineage_variant_and_style_the_files_carry(demo):
    assets = assets_by_name(demo)
    assert assets["ponyDiffusionV6XL"]["lineage"] == "pony"
    assert assets["sd15_inpainting"]["variant"] == "inpaint"
    assert assets["animeDream_v3"]["style"] == "anime"
    assert assets["realisticVisionV60"]["style"] == "photoreal"


def test_ls_filters_by_kind_and_base(demo):
    assert set(assets_by_name(demo, "--kind", "lora", "--base", "sdxl")) == {"detail_tweaker_xl"}
    assert set(assets_by_name(demo, "--kind", "vae")) == DEMO_VAES


def test_show_json_is_the_asset_with_its_identity(demo):
    shown = as_json(run(demo, "show", "sdxl_base_1.0", "--json"))
    assert shown["kind"] == "checkpoint" and shown["base"] == "sdxl"
    assert shown["path"].endswith("Stable-diffusion/sdxl_base_1.0.safetensors")
    assert shown["identity"]["kind"] == "checkpoint"
    assert shown["identity"]["evidence"]  # why it is an SDXL checkpoint
    by_id = as_json(run(demo, "show", f"#{shown['id']}", "--json"))
    assert by_id["path"] == shown["path"]


def test_show_flags_the_unsafe_pickle(demo):
    shown = as_json(run(demo, "show", "old_model", "--json"))
    assert shown["format"] == "pickle"
    assert shown["identity"]["unsafe"] is True


def test_search_finds_by_trigger_word_and_title(demo):
    names = {a["name"] for a in as_json(run(demo, "search", "lineart", "--json"))}
    assert names == {"animeLineart_sd15"}
    names = {a["name"] for a in as_json(run(demo, "search", "Pony Diffusion", "--json"))}
    assert names == {"ponyDiffusionV6XL"}


# -- edits ----------------------------------------------------------------------------------


def test_tags_are_added_listed_and_removed(fresh_demo):
    tagged = as_json(run(fresh_demo, "tag", "add_detail", "+favourite", "photo", "--json"))
    assert tagged["tags"] == ["favourite", "photo"]
    assert set(assets_by_name(fresh_demo, "--tag", "favourite")) == {"add_detail"}
    found = as_json(run(fresh_demo, "search", "favourite", "--json"))
    assert [a["name"] for a in found] == ["add_detail"]
    untagged = as_json(run(fresh_demo, "tag", "add_detail", "-favourite", "--json"))
    assert untagged["tags"] == ["photo"]
    assert assets_by_name(fresh_demo, "--tag", "favourite") == {}


def test_override_wins_and_survives_a_rescan_of_the_changed_file(fresh_demo):
    set_result = as_json(run(fresh_demo, "set", "sdxl-vae-fp16-fix", "base=sdxl", "--json"))
    assert set_result["overrides"] == {"base": "sdxl"}
    path = Path(assets_by_name(fresh_demo)["sdxl-vae-fp16-fix"]["path"])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the file "changed"

    rescan = as_json(run(fresh_demo, "scan", "--json"))
    assert rescan["changed"] == [str(path)]
    asset = assets_by_name(fresh_demo)["sdxl-vae-fp16-fix"]
    assert (asset["base"], asset["overrides"]) == ("sdxl", {"base": "sdxl"})

    cleared = as_json(run(fresh_demo, "set", "sdxl-vae-fp16-fix", "base=", "--json"))
    assert cleared["overrides"] == {}
    assert assets_by_name(fresh_demo)["sdxl-vae-fp16-fix"]["base"] == "unknown"


# -- lint the sample recipes ----------------------------------------------------------------


def _expected_codes(sample: Path) -> set[str]:
    match = EXPECT_LINE.search(sample.read_text(encoding="utf-8"))
    assert match, f"{sample.name} has no '# expect:' line"
    return set(match.group(1).split()) - {"nothing"}


@pytest.fixture(scope="module")
def lint_report(demo):
    result = run(demo, "lint", *SAMPLE_FILES, "--format", "json")
    assert result.exit_code == 1, result.output  # the broken samples hold errors
    report = json.loads(result.stdout)
    assert report["not_checked"] == []
    findings: dict[str, list[dict]] = {sample.name: [] for sample in SAMPLE_FILES}
    for finding in report["findings"]:
        findings[Path(finding["file"]).name].append(finding)
    return findings


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLE_FILES if s.name.startswith("broken_")], ids=lambda s: s.stem
)
def test_broken_sample_triggers_the_codes_it_expects(lint_report, sample):
    findings = lint_report[sample.name]
    assert _expected_codes(sample) <= {f["code"] for f in findings}, findings
    # Every broken sample deserves a warning, unless its headline says it is an info note.
    if "info)" not in sample.read_text(encoding="utf-8").splitlines()[0]:
        worst = max((SEVERITY_RANK[f["severity"]] for f in findings), default=-1)
        assert worst >= SEVERITY_RANK["warning"], findings


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLE_FILES if s.name.startswith("good_")], ids=lambda s: s.stem
)
def test_good_sample_has_no_error(lint_report, sample):
    findings = lint_report[sample.name]
    assert [f for f in findings if f["severity"] == "error"] == []


def test_lint_sarif_is_sarif_2_1_0(demo):
    result = run(demo, "lint", *SAMPLE_FILES, "--format", "sarif")
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    (sarif_run,) = log["runs"]
    assert sarif_run["tool"]["driver"]["name"] == "pantry"
    assert sarif_run["results"]
    assert {r["level"] for r in sarif_run["results"]} <= {"error", "warning", "note"}


def test_lint_of_good_samples_alone_passes(demo):
    good = [s for s in SAMPLE_FILES if s.name.startswith("good_")]
    result = run(demo, "lint", *good, "--fail-on", "error")
    assert result.exit_code == 0, result.output


# -- recipe conversion ----------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["good_sd15_portrait.toml", "good_anime_clip_skip_2.toml"])
def test_recipe_to_text_and_back_keeps_the_recipe(demo, sample):
    original = load_recipe(SAMPLES / sample)
    infotext = run(demo, "recipe", "to-text", SAMPLES / sample)
    assert infotext.exit_code == 0, infotext.output
    assert "Steps:" in infotext.stdout

    result = pantry("recipe", "from-text", "-", "--catalog", demo["catalog"], stdin=infotext.stdout)
    assert result.exit_code == 0, result.output
    again = loads_recipe(result.stdout)

    for field in ("checkpoint", "vae", "negative_prompt", "width", "height", "steps", "seed"):
        assert getattr(again, field) == getattr(original, field), field
    assert (again.sampler, again.scheduler) == (original.sampler, original.scheduler)
    assert again.cfg_scale == pytest.approx(original.cfg_scale)
    assert (again.clip_skip or 1) == (original.clip_skip or 1)
    # The [[loras]] table travels as <lora:...> tags in the prompt and comes back as them.
    assert _words(again.prompt) == _words(original.prompt)
    assert [(lora.ref, lora.weight) for lora in again.all_loras()] == [
        (lora.ref, lora.weight) for lora in original.all_loras()
    ]


def _words(prompt: str) -> str:
    """The prompt without its <lora:...> tags and the separator left where one stood."""
    return strip_extra_networks(prompt).strip().rstrip(",").strip()
