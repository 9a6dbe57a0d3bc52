"""Data files bundled with pantry (the CLIP tokenizer vocabulary). No code runs here."""
