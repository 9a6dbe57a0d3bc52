"""Folder names that popular UIs use for each kind of model.

A folder hint is recorded as evidence only: identity always comes from the file's header.
The table is data; ``folder_hint`` reads it.
"""

from __future__ import annotations

from pathlib import PurePath

# (ui, folder name as it appears in the path, kind the UI expects there). Folder names are
# compared case-insensitively; the nearest matching folder above the file wins.
LAYOUT_FOLDERS: tuple[tuple[str, str, str], ...] = (
    # AUTOMATIC1111 / Forge: models/<Folder>, embeddings/ at the top level
    ("a1111", "stable-diffusion", "checkpoint"),
    ("a1111", "lora", "lora"),
    ("a1111", "lycoris", "lora"),
    ("a1111", "vae", "vae"),
    ("a1111", "embeddings", "embedding"),
    ("a1111", "hypernetworks", "hypernetwork"),
    ("a1111", "controlnet", "controlnet"),
    ("a1111", "esrgan", "upscaler"),
    ("a1111", "realesrgan", "upscaler"),
    ("a1111", "text_encoder", "text_encoder"),
    ("a1111", "gfpgan", "face_restorer"),
    ("a1111", "codeformer", "face_restorer"),
    ("a1111", "swinir", "upscaler"),
    ("a1111", "dat", "upscaler"),
    ("a1111", "animatediff", "motion_module"),
    # ComfyUI: models/<folder>
    ("comfyui", "checkpoints", "checkpoint"),
    ("comfyui", "loras", "lora"),
    ("comfyui", "diffusion_models", "diffusion_model"),
    ("comfyui", "unet", "diffusion_model"),
    ("comfyui", "text_encoders", "text_encoder"),
    ("comfyui", "clip", "text_encoder"),
    ("comfyui", "upscale_models", "upscaler"),
    ("comfyui", "ipadapter", "ip_adapter"),
    ("comfyui", "t2i_adapter", "t2i_adapter"),
    ("comfyui", "vae_approx", "vae"),
    ("comfyui", "clip_vision", "clip_vision"),
    ("comfyui", "animatediff_models", "motion_module"),
    ("comfyui", "facerestore_models", "face_restorer"),
    ("comfyui", "hypernetworks", "hypernetwork"),
    # InvokeAI: models/<base>/<type>/
    ("invokeai", "main", "checkpoint"),
    ("invokeai", "embedding", "embedding"),
    ("invokeai", "ip_adapter", "ip_adapter"),
)

_BY_FOLDER: dict[str, tuple[str, str]] = {}
for _ui, _folder, _kind in LAYOUT_FOLDERS:
    _BY_FOLDER.setdefault(_folder, (_ui, _kind))


def folder_hint(path: PurePath) -> tuple[str, str, str] | None:
    """``(ui, kind, folder name)`` from the nearest known folder above ``path``, or None."""
    for parent in list(path.parents)[:4]:
        hint = _BY_FOLDER.get(parent.name.lower())
        if hint is not None:
            return (*hint, parent.name)
    return None
