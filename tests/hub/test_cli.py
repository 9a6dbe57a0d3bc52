"""`pantry pull` on the command line, against the fake Hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pantry.cli import main
from tests.hub.conftest import LORA, NESTED, REPO
from tests.hub.models import lora_file


def run(*args: str):
    return CliRunner().invoke(main, ["pull", *args])


def test_without_files_it_lists_model_files_and_asks_for_a_pattern(fake_hub, repo):
    result = run(REPO)

    assert result.exit_code == 0
    assert LORA in result.stdout and NESTED in result.stdout
    assert "1.2 MiB" in result.stdout
    assert "README.md" not in result.stdout
    assert f"pantry pull {REPO} '*.safetensors'" in result.stderr


def test_listing_as_json(fake_hub, repo):
    result = run(REPO, "--json")

    listing = json.loads(result.stdout)
    assert listing["commit"] == repo
    assert {f["filename"]: f["size"] for f in listing["files"]} == {
        LORA: len(lora_file(seed=1)),
        NESTED: len(lora_file(seed=2)),
    }


def test_pull_quietly_as_json(fake_hub, repo, tmp_path):
    result = run(
        REPO,
        LORA,
        "--to",
        str(tmp_path / "models"),
        "--catalog",
        str(tmp_path / "c.db"),
        "--quiet",
        "--json",
    )

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    (pulled,) = json.loads(result.stdout)
    assert pulled["status"] == "downloaded" and pulled["commit"] == repo
    assert Path(pulled["path"]).read_bytes() == lora_file(seed=1)


def test_progress_goes_to_stderr_not_stdout(fake_hub, repo, tmp_path):
    result = run(REPO, LORA, "--to", str(tmp_path / "models"), "--catalog", str(tmp_path / "c.db"))

    assert result.exit_code == 0, result.stderr
    assert "tiny_lora.safetensors" in result.stderr and "MB" in result.stderr
    assert result.stdout.startswith("downloaded: ")


def test_update_reports_the_new_commit(fake_hub, repo, tmp_path):
    db = str(tmp_path / "c.db")
    run(REPO, LORA, "--to", str(tmp_path / "models"), "--catalog", db, "--quiet")
    newer = fake_hub.commit(REPO, {LORA: lora_file(seed=7)})

    result = run("--update", "--catalog", db, "--quiet", "--json")

    assert result.exit_code == 0, result.stderr
    (updated,) = json.loads(result.stdout)
    assert updated["status"] == "updated" and updated["commit"] == newer


def test_a_hash_mismatch_exits_1_with_one_line(fake_hub, repo, tmp_path):
    fake_hub.corrupt.add(LORA)

    result = run(REPO, LORA, "--to", str(tmp_path / "m"), "--catalog", str(tmp_path / "c.db"), "-q")

    assert result.exit_code == 1
    assert "SHA-256 mismatch" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_user_errors_exit_2_with_one_line_and_no_traceback(fake_hub, repo, tmp_path):
    fake_hub.add_repo("gated/model", {LORA: lora_file(seed=3)}, token="hf_secret")
    cases = [
        (["gated/model", LORA], "is gated"),
        (["nobody/nothing"], "not found"),
        ([REPO, "--revision", "nope"], "revision 'nope' not found"),
        ([], "give a repository id"),
    ]
    for args, message in cases:
        result = run(*args, "--to", str(tmp_path / "m"), "--catalog", str(tmp_path / "c.db"))
        assert result.exit_code == 2, args
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output


def test_offline_mode_exits_2(fake_hub, repo, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    result = run(REPO)

    assert result.exit_code == 2
    assert "offline mode" in result.stderr


def test_a_fresh_process_takes_the_endpoint_from_its_environment(fake_hub, repo, tmp_path):
    env = {**os.environ, "HF_ENDPOINT": fake_hub.url, "HF_HUB_DISABLE_TELEMETRY": "1"}
    root = tmp_path / "models"

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pantry",
            "pull",
            REPO,
            "*.safetensors",
            "--to",
            str(root),
            "--catalog",
            str(tmp_path / "c.db"),
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    pulled = sorted(p.name for p in root.rglob("*.safetensors"))
    assert pulled == sorted([LORA, Path(NESTED).name])


def test_an_hf_ref_pulls_that_one_file_then_finds_it(fake_hub, repo, tmp_path):
    args = ("--to", str(tmp_path / "m"), "--catalog", str(tmp_path / "c.db"), "-q", "--json")

    first = run(f"hf://{REPO}/{NESTED}@{repo}", *args)
    again = run(f"hf://{REPO}/{NESTED}@{repo}", *args)

    assert first.exit_code == 0, first.stderr
    ((pulled,), (found,)) = json.loads(first.stdout), json.loads(again.stdout)
    assert pulled["status"] == "downloaded" and found["status"] == "already_pulled"
    assert Path(pulled["path"]).read_bytes() == lora_file(seed=2)
    assert found["path"] == pulled["path"]
