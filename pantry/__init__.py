"""pantry: catalog, identify and pre-flight-lint Stable Diffusion model files."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Catalog", "__version__"]


def __getattr__(name: str):
    # Lazy so that `import pantry` stays cheap for commands that never touch the database.
    if name == "Catalog":
        from pantry.catalog import Catalog

        return Catalog
    raise AttributeError(name)
