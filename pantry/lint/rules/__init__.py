"""Rule modules, one per family. Importing this package registers every rule."""

from pantry.lint.rules import (  # noqa: F401
    assets,
    compatibility,
    integrity,
    prompt,
    settings,
    style,
)
