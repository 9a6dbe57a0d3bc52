"""`pantry demo --no-render`: the whole tour runs, and nothing in it loads torch or diffusers."""

import os
import re
import subprocess
import sys

HEAVY = {"torch", "diffusers", "transformers", "peft"}
# PYTHONPROFILEIMPORTTIME makes every Python process (the demo's child commands too) log each
# import on stderr: "import time:  self [us] | cumulative | package.module".
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)", re.MULTILINE)


def test_demo_without_render_runs_every_step_without_heavy_imports(tmp_path):
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    env.pop("PANTRY_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "pantry", "demo", "--no-render", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    imported = set(IMPORT_LINE.findall(result.stderr))
    assert "pantry.cli" in imported  # the profile did reach this run
    assert {m.split(".")[0] for m in imported} & HEAVY == set()
    for step in ("$ pantry scan", "$ pantry inspect", "$ pantry ls", "$ pantry lint"):
        assert step in result.stdout
    assert (tmp_path / "demo" / "catalog.db").is_file()  # its own catalog, not the user's
