"""The layer rule: formats -> identify -> catalog -> recipes/lint -> render -> cli; never upwards.

And the light commands never import torch or diffusers (they would cost seconds of start-up).
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pantry"

# Each layer may import itself and the layers listed for it (plus the shared leaf modules).
LEAVES = {"pantry.errors", "pantry", "pantry.data"}
ALLOWED = {
    "formats": {"formats"},
    "identify": {"formats", "identify"},
    "hashing": {"formats", "hashing"},
    "catalog": {"formats", "identify", "hashing", "catalog"},
    # recipes and lint read hf:// refs through the hub layer, which never imports them back.
    "recipes": {"formats", "identify", "hashing", "catalog", "hub", "recipes"},
    "lint": {"formats", "identify", "hashing", "catalog", "hub", "recipes", "lint"},
    "hub": {"formats", "identify", "hashing", "catalog", "recipes", "hub"},
}
HEAVY = ("torch", "diffusers", "transformers", "peft", "accelerate")


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "pantry" else None


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        yield ".".join(rel.parts), path


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_never_import_higher_ones(layer):
    offenders = []
    for module, path in _modules():
        if _layer_of(module) != layer:
            continue
        for name in _imports(path):
            target = _layer_of(name)
            if name in LEAVES or name.startswith("pantry.data") or target is None:
                continue
            if target not in ALLOWED[layer] and name not in LEAVES:
                offenders.append(f"{module} imports {name}")
    assert not offenders


def test_only_render_imports_torch_or_diffusers():
    offenders = []
    for module, path in _modules():
        if _layer_of(module) == "render":
            continue
        for name in _imports(path):
            if name.split(".")[0] in HEAVY:
                offenders.append(f"{module} imports {name}")
    assert not offenders


PROBE = """
import sys
from click.testing import CliRunner
from pantry.cli import main
CliRunner().invoke(main, sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print(','.join(heavy))
"""


@pytest.mark.parametrize(
    "args",
    [["inspect", "nothing.safetensors"], ["ls"], ["scan", "."], ["lint", "no_recipe.toml"]],
    ids=["inspect", "ls", "scan", "lint"],
)
def test_light_commands_do_not_import_torch_or_diffusers(args, tmp_path):
    env = {"PANTRY_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    code = PROBE.replace("{heavy!r}", repr(set(HEAVY)))
    run = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""
