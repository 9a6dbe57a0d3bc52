"""`pantry lint` must stay light: it never imports torch, diffusers or transformers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from pantry.catalog import Catalog

HEAVY = ("torch", "diffusers", "transformers")

# Runs the real CLI in a fresh interpreter, then reports which heavy modules got imported.
PROBE = textwrap.dedent(
    """
    import json, sys
    from pantry.cli import main
    try:
        main(sys.argv[1:], standalone_mode=False)
    except SystemExit:
        pass
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
    print("HEAVY=" + json.dumps(heavy))
    """
).format(heavy=set(HEAVY))


def heavy_modules_after(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )
    marker = [line for line in done.stdout.splitlines() if line.startswith("HEAVY=")]
    assert marker, done.stderr
    return json.loads(marker[-1].removeprefix("HEAVY="))


def test_lint_imports_no_torch_or_diffusers(tmp_path):
    database = tmp_path / "catalog.db"
    Catalog.open(database).close()
    recipe = tmp_path / "r.toml"
    recipe.write_text('checkpoint = "realisticVisionV60"\nprompt = "a <lora:add_detail:0.5> cat"\n')
    assert heavy_modules_after("lint", "--catalog", str(database), str(recipe)) == []


def test_rules_imports_no_torch_or_diffusers():
    assert heavy_modules_after("rules", "--json") == []
