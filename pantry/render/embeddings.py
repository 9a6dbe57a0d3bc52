"""Textual-inversion embeddings: read an embedding file into vectors for each text encoder.

The layouts read, as AUTOMATIC1111 reads them:

==============================  ===========================================================
``string_to_param`` {"*": t}    A1111's own .pt (and .safetensors with ``string_to_param.*``)
``emb_params``                  A1111 .safetensors
``clip_l`` and ``clip_g``       SDXL: one set of vectors per text encoder
one tensor {token: t}           diffusers' ``learned_embeds`` (.bin / .safetensors)
==============================  ===========================================================

Each set of vectors is ``(count, width)``; ``width`` must be the text encoder's. Pickled files
go through ``torch.load(weights_only=True)``, which builds tensors and plain containers only and
never runs code from the file. An embedding that does not fit the checkpoint is an error:
rendering without it would give another image than the prompt asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from pantry.errors import RenderError

A1111_KEY = "string_to_param"
SAFETENSORS_KEY = "emb_params"
SDXL_KEYS = ("clip_l", "clip_g")  # in the pipeline's text encoder order
MAX_VECTORS = 75  # one prompt chunk


@dataclass(frozen=True)
class TextualInversion:
    name: str  # the word that stands for it in a prompt
    path: Path
    vectors: tuple[torch.Tensor, ...]  # (count, width) per text encoder, in pipeline order

    @property
    def count(self) -> int:
        return self.vectors[0].shape[0]


def load_embedding(path: Path, name: str, widths: Sequence[int]) -> TextualInversion:
    """Read ``path`` for a pipeline whose text encoders have these embedding ``widths``."""
    sets = _vector_sets(_read(path), path)
    if len(sets) != len(widths):
        raise RenderError(
            f"{path}: {_describe(sets)}; this checkpoint needs {_describe_need(widths)}"
        )
    for vectors, width in zip(sets, widths, strict=True):
        if vectors.shape[-1] != width:
            raise RenderError(
                f"{path}: embedding vectors are {vectors.shape[-1]} wide; this checkpoint's text "
                f"encoder takes {width} (an embedding made for another base model)"
            )
    counts = {vectors.shape[0] for vectors in sets}
    if len(counts) != 1 or not 1 <= min(counts) <= MAX_VECTORS:
        raise RenderError(f"{path}: unusable vector counts {sorted(counts)} (1 to 75 per encoder)")
    return TextualInversion(name, path, tuple(v.detach().float() for v in sets))


def _read(path: Path) -> dict:
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:  # safetensors, pickle and torch raise many kinds
        text = (str(error).strip() or type(error).__name__).splitlines()[0]
        raise RenderError(f"{path}: could not read the embedding: {text}") from error


def _vector_sets(data, path: Path) -> list[torch.Tensor]:
    if not isinstance(data, dict):
        raise RenderError(f"{path}: not an embedding file (no tensors by name)")
    if all(key in data for key in SDXL_KEYS):
        return [_matrix(data[key], path) for key in SDXL_KEYS]
    if isinstance(data.get(A1111_KEY), dict):
        params = list(data[A1111_KEY].values())
    elif SAFETENSORS_KEY in data:
        params = [data[SAFETENSORS_KEY]]
    else:
        # safetensors flattens A1111's nested dict to "string_to_param.*"; diffusers writes one
        params = [v for k, v in data.items() if k.startswith(A1111_KEY + ".")] or list(
            data.values()
        )
    if len(params) != 1:
        raise RenderError(f"{path}: expected one set of embedding vectors, found {len(params)}")
    return [_matrix(params[0], path)]


def _matrix(value, path: Path) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.ndim not in (1, 2):
        raise RenderError(f"{path}: embedding vectors are not a (count, width) tensor")
    return value if value.ndim == 2 else value[None]  # diffusers saves one vector as (width,)


def _describe(sets: list[torch.Tensor]) -> str:
    if len(sets) == 1:
        return f"the embedding has one set of {sets[0].shape[-1]}-wide vectors (SD1/SD2 style)"
    return "the embedding has clip_l and clip_g vectors (SDXL style)"


def _describe_need(widths: Sequence[int]) -> str:
    if len(widths) == 1:
        return f"one set {widths[0]} wide"
    return "clip_l and clip_g vectors (SDXL)"
