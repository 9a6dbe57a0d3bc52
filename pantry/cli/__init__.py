"""pantry's command line: a thin click layer over the library.

Each command group lives in its own module with a ``register(group)`` function. Modules must
not import torch or diffusers at import time (``pantry scan/ls/inspect/lint`` stay light).
"""

from __future__ import annotations

import click

from pantry import __version__
from pantry.cli import (
    catalog_cmds,
    demo,
    hub_cmds,
    inspect_cmd,
    lint_cmds,
    recipe_cmds,
    render_cmds,
)
from pantry.cli.common import PantryGroup


@click.group(cls=PantryGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pantry")
def main() -> None:
    """Catalog, identify and pre-flight-lint Stable Diffusion model files."""


for _module in (inspect_cmd, catalog_cmds, lint_cmds, recipe_cmds, hub_cmds, render_cmds, demo):
    _module.register(main)
