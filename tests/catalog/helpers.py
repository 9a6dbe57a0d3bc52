"""Model files for catalog tests, built on tests.fixtures.modelfiles."""

from __future__ import annotations

import os
from pathlib import Path

from tests.fixtures.modelfiles import write_model


def write_unique(directory: Path, layout: str, filename: str | None = None) -> Path:
    """A header-faithful file whose weights differ from every other file's (random bytes in
    the middle), as two real fine-tunes of one architecture would."""
    path = write_model(directory, layout, filename=filename)
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2)
        f.write(os.urandom(4096))
    return path


def by_path(assets) -> dict[str, object]:
    return {str(a.path): a for a in assets}
