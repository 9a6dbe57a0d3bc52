"""The demo model: a tiny random-weight SD1 checkpoint in the A1111 single-file layout.

It goes through the same loader as a user's checkpoint; being too small for the bundled SD1
config, it carries its configs in a ``<file>.config.json`` sidecar. It renders noise.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

DEMO_NAME = "tiny_sd15_demo"


def build_demo_model(directory: str | Path, seed: int = 0) -> Path:
    """Write ``tiny_sd15_demo.safetensors`` (and its config sidecar) into ``directory``."""
    from pantry.render.ldm_export import save_single_file
    from pantry.render.loading import write_sidecar
    from pantry.render.quiet import quiet_libraries
    from pantry.render.tiny import tiny_sd1

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with quiet_libraries():
        pipe = tiny_sd1(seed)
        path = save_single_file(pipe, directory / f"{DEMO_NAME}.safetensors")
        with tempfile.TemporaryDirectory() as folder:
            pipe.save_pretrained(folder)
            write_sidecar(Path(folder), path)
    return path
