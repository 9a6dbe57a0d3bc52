"""Header -> Identity, pure: no I/O, no database.

Contract: ``identify(header: Header) -> Identity``. Never raises for a well-formed Header:
anything it cannot place is ``kind``/``base`` "unknown" with ``reason`` set.
"""

from __future__ import annotations

from pantry.formats.header import Header
from pantry.identify.identity import Identity


def identify(header: Header) -> Identity:
    raise NotImplementedError("being written")
