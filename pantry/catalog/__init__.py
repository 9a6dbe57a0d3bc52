"""The catalog: a SQLite (or any SQLAlchemy URL) store of model assets, kept in step with disk.

``Catalog`` is the library entry point; the CLI in ``pantry.cli.catalog_cmds`` is a thin layer
over it. Exported lazily so that importing ``pantry.catalog.asset`` stays free of SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pantry.catalog.core import Catalog, HashReport, ScanReport

__all__ = ["Catalog", "HashReport", "ScanReport"]


def __getattr__(name: str):
    if name in __all__:
        from pantry.catalog import core

        return getattr(core, name)
    raise AttributeError(name)
