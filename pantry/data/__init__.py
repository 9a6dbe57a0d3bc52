"""Data files bundled with pantry (CLIP tokenizer vocabulary, layouts). No code runs here."""
