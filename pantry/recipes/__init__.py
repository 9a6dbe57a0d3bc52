"""Recipes: what a user asks to render, read from TOML or image infotext, resolved to assets.

Modules (import the one you need; this package imports nothing on its own):

- ``model``: Recipe, LoraSpec, Resolution, ResolvedRecipe (the contract)
- ``toml_io``: load_recipe, loads_recipe, dump_recipe, save_recipe
- ``infotext``: parse_infotext, read_infotext, write_infotext, hashes_from_resolved
- ``image_meta``: read_png_infotext (PNG / JPEG / WEBP)
- ``resolve``: resolve(recipe, catalog) -> ResolvedRecipe
- ``prompt``: prompt_loras, comfy_embeddings, parse_attention, encoder_segments
- ``tokens``: count_tokens, chunks, encode (CLIP BPE, no torch)
- ``samplers``: A1111 sampler / schedule-type tables
"""
