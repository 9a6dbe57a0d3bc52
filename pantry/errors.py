"""One exception family for everything pantry reports to a user.

Every error carries a one-line message a user can act on; the CLI prints ``str(error)`` and
never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class PantryError(Exception):
    """Base of every error pantry raises on purpose."""


class UnreadableFileError(PantryError):
    """A model file could not be read or failed validation.

    ``reason`` is one line without the path; ``str()`` names the file and the reason.
    """

    def __init__(self, path: str | Path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class HeaderError(UnreadableFileError):
    """A safetensors header violates the format."""


class PickleFormatError(UnreadableFileError):
    """A legacy pickle checkpoint could not be walked."""


class CatalogError(PantryError):
    """The catalog could not be opened, migrated or written."""


class RefNotFoundError(PantryError):
    """A REF (name, path, hash prefix, id, hf:// ref) matches no catalogued asset."""

    def __init__(self, ref: str, detail: str = ""):
        self.ref = ref
        super().__init__(f"no asset matches {ref!r}" + (f": {detail}" if detail else ""))


class AmbiguousRefError(PantryError):
    """A REF matches several assets; ``candidates`` lists them (asset objects)."""

    def __init__(self, ref: str, candidates: list):
        self.ref = ref
        self.candidates = candidates
        names = ", ".join(str(getattr(c, "path", c)) for c in candidates[:10])
        more = f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
        super().__init__(f"{ref!r} is ambiguous: matches {names}{more}")


class RecipeError(PantryError):
    """A recipe file is malformed; names the file, line (when known) and field."""

    def __init__(self, path: str | Path | None, reason: str, line: int | None = None):
        self.path = Path(path) if path else None
        self.reason = reason
        self.line = line
        where = str(self.path) if self.path else "<recipe>"
        if line:
            where += f":{line}"
        super().__init__(f"{where}: {reason}")


class HubError(PantryError):
    """A Hugging Face download failed; the message says what to do."""


class RenderError(PantryError):
    """A render could not be carried out."""
