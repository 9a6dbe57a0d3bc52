"""Which folder of the pantry root a pulled file goes to, from what the file turns out to be."""

from __future__ import annotations

from pathlib import Path

from pantry.identify.taxonomy import Kind

# Folder names follow the layout most UIs share (ComfyUI's models/ tree).
KIND_FOLDERS: dict[str, str] = {
    Kind.CHECKPOINT: "checkpoints",
    Kind.LORA: "loras",
    Kind.VAE: "vae",
    Kind.EMBEDDING: "embeddings",
    Kind.CONTROLNET: "controlnet",
    Kind.T2I_ADAPTER: "controlnet",
    Kind.DIFFUSION_MODEL: "diffusion_models",
    Kind.TEXT_ENCODER: "text_encoders",
    Kind.IP_ADAPTER: "ipadapter",
    Kind.CLIP_VISION: "clip_vision",
    Kind.UPSCALER: "upscale_models",
    Kind.HYPERNETWORK: "hypernetworks",
    Kind.MOTION_MODULE: "animatediff_models",
    Kind.FACE_RESTORER: "facerestore_models",
}
OTHER_FOLDER = "other"
# AUTOMATIC1111/Forge's names for the same folders: a root laid out that way already has them,
# and a pull must land where that UI looks, not in a ComfyUI-named twin beside it.
A1111_FOLDERS: dict[str, tuple[str, ...]] = {
    Kind.CHECKPOINT: ("Stable-diffusion",),
    Kind.LORA: ("Lora", "LyCORIS"),
    Kind.VAE: ("VAE",),
    Kind.CONTROLNET: ("ControlNet",),
    Kind.T2I_ADAPTER: ("ControlNet",),
    Kind.UPSCALER: ("ESRGAN", "RealESRGAN"),
}


def folder_for_kind(kind: str) -> str:
    return KIND_FOLDERS.get(kind, OTHER_FOLDER)


def folder_in_root(root: Path, kind: str) -> Path:
    """The root's folder for ``kind``: its A1111-named folder when it has one, else ours."""
    for name in A1111_FOLDERS.get(kind, ()):
        if (root / name).is_dir():
            return root / name
    return root / folder_for_kind(kind)


def identified_kind(path: Path) -> str:
    """The identified kind of the model file at ``path``; "unknown" when it cannot be read."""
    from pantry.formats import read_header
    from pantry.identify import identify

    try:
        return identify(read_header(path)).kind
    except Exception:  # unreadable, or a reader's bug: neither may cost a verified download
        return Kind.UNKNOWN.value


def destination(root: Path, kind: str, filename: str, sha256: str) -> Path:
    """``root/<folder for kind>/<file name>``; a name taken by another file gets the short
    SHA-256 appended, so a pull never overwrites a file it did not put there."""
    folder = folder_in_root(root, kind)
    name = Path(filename).name
    target = folder / name
    if target.exists():
        target = folder / f"{target.stem}-{sha256[:10]}{target.suffix}"
    return target
