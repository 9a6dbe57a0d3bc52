"""`pantry inspect`: the command users meet first."""

import json

import pytest
from click.testing import CliRunner

from pantry.cli import main
from tests.fixtures.modelfiles import write_model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "checkpoint": write_model(root, "sdxl_base_checkpoint", dtype="F16"),
        "lora": write_model(root, "kohya_sdxl_lora"),
        "vae": write_model(root, "sdxl_vae"),
    }


def _inspect(*args):
    result = CliRunner().invoke(main, ["inspect", *map(str, args)])
    return result


def test_json_reports_kind_and_base_for_each_file(models):
    result = _inspect("--json", models["checkpoint"], models["lora"], models["vae"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [r["kind"] for r in reports] == ["checkpoint", "lora", "vae"]
    assert reports[0]["base"] == "sdxl"
    assert reports[1]["base"] == "sdxl"
    assert reports[1]["lora"]["format"] == "kohya"
    assert reports[2]["vae"]["latent_channels"] == 4


def test_json_schema_has_the_documented_top_level_fields(models):
    report = json.loads(_inspect("--json", models["lora"]).stdout)[0]
    documented = {
        "path", "kind", "base", "edition", "variant", "variants", "lineage", "components",
        "precision", "params", "lora", "vae", "metadata", "style", "evidence", "errors",
        "confidence", "reason", "format", "file_size", "unsafe", "unsafe_globals",
    }  # fmt: skip
    assert documented <= set(report)


def test_sd1_or_sdxl_vae_is_not_a_confident_guess(models):
    report = json.loads(_inspect("--json", models["vae"]).stdout)[0]
    assert report["base"] == "unknown"
    assert {"sd1", "sdxl"} <= set(report["vae"]["base_candidates"] or report["base_candidates"])


def test_explain_prints_the_evidence(models):
    result = _inspect("--explain", models["checkpoint"])
    assert result.exit_code == 0
    assert "evidence:" in result.stdout
    assert "2048" in result.stdout  # the SDXL cross-attention width decided the base


def test_bad_file_is_one_line_error_exit_2_and_others_still_reported(models, tmp_path):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    result = _inspect("--json", broken, models["lora"])
    assert result.exit_code == 2
    reports = json.loads(result.stdout)
    assert len(reports) == 2
    assert reports[0]["unreadable"] and "broken.safetensors" in reports[0]["errors"][0]
    assert reports[1]["kind"] == "lora"
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1 and "broken.safetensors" in error_lines[0]
    assert "Traceback" not in result.output


def test_a_folder_is_expanded_into_its_model_files(models):
    result = _inspect("--json", models["lora"].parent)
    kinds = sorted(r["kind"] for r in json.loads(result.stdout))
    assert kinds == ["checkpoint", "lora", "vae"]


def test_hash_option_reports_hashes_and_uses_them(models, monkeypatch):
    import hashlib

    from pantry.identify import signatures
    from pantry.identify.taxonomy import Base

    with open(models["vae"], "rb") as handle:
        sha = hashlib.file_digest(handle, "sha256").hexdigest()
    known = signatures.KnownFile("sdxl_vae (stabilityai)", "vae", Base.SDXL, False)
    monkeypatch.setitem(signatures.KNOWN_SHA256, sha, known)

    report = json.loads(_inspect("--json", "--hash", models["vae"]).stdout)[0]

    assert report["hashes"]["sha256"] == sha
    assert report["base"] == "sdxl"
    assert report["vae"]["known_as"] == "sdxl_vae (stabilityai)"
