"""Header -> Identity, pure: no I/O, no database.

Contract: ``identify(header, hashes=None) -> Identity``. Never raises for a well-formed Header:
anything it cannot place is ``kind``/``base`` "unknown" with ``reason`` set. ``hashes`` uses
the keys of ``pantry.catalog.asset`` (``"sha256"``, ``"addnet"``, ...) when the catalog knows
them; a known SHA-256 settles what shapes cannot (which 4-channel VAE a file is).
"""

from __future__ import annotations

from pantry.identify.engine import identify
from pantry.identify.identity import Identity

__all__ = ["Identity", "identify"]
