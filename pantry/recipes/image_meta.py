"""Read the generation parameters (infotext) that image writers embed in PNG/JPEG/WEBP files.

Where A1111 and its forks put it: PNG text chunk ``parameters`` (tEXt, zTXt or iTXt); JPEG
and WEBP: EXIF ``UserComment``. Fooocus and SwarmUI put JSON there instead; InvokeAI writes
``invokeai_metadata`` (``sd-metadata`` before 3.0); NovelAI writes JSON in ``Comment``. Those
are turned into A1111 infotext (``json_meta`` maps the keys). Pillow reads the containers.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pantry.errors import RecipeError
from pantry.recipes.infotext import format_infotext
from pantry.recipes.json_meta import novelai_parts, parts_from_json

EXIF_IFD = 0x8769
EXIF_USER_COMMENT = 0x9286
# EXIF UserComment starts with an 8-byte character-code field.
USER_COMMENT_CODES = {b"UNICODE\0": "utf-16", b"ASCII\0\0\0": "ascii", b"\0" * 8: "utf-8"}
COMFY_KEYS = ("prompt", "workflow")
INVOKEAI_KEYS = ("invokeai_metadata", "sd-metadata")


def read_png_infotext(path: str | Path) -> str:
    """The infotext embedded in an image file (PNG, JPEG or WEBP).

    Raises ``RecipeError`` naming the file when it is not an image or carries no parameters.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            # PngImageFile.text also reads text chunks stored after the image data
            texts = dict(getattr(image, "text", {}) or {})
            info = dict(image.info)
            user_comment = _exif_user_comment(image)
            size = image.size
    except FileNotFoundError:
        raise RecipeError(path, "no such file") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise RecipeError(path, f"not a readable image ({exc.__class__.__name__})") from None

    chunks = {**info, **texts}
    for value in (chunks.get("parameters"), user_comment):
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and value.strip():
            return _from_json(value) or value
    for key in INVOKEAI_KEYS:
        if isinstance(chunks.get(key), str) and (text := _from_json(chunks[key])):
            return text
    novelai = _novelai_infotext(chunks, size)
    if novelai:
        return novelai
    if any(key in chunks for key in COMFY_KEYS):
        raise RecipeError(
            path, "carries a ComfyUI workflow but no A1111 'parameters' text; not supported yet"
        )
    raise RecipeError(path, "no generation parameters (no 'parameters' text, no EXIF comment)")


def decode_user_comment(raw: bytes | str) -> str:
    """EXIF UserComment bytes -> text (8-byte code, then the text; UTF-16 of either order)."""
    if isinstance(raw, str):
        return raw
    code, payload = raw[:8], raw[8:]
    encoding = USER_COMMENT_CODES.get(code)
    if encoding is None:
        return raw.decode("utf-8", "replace")
    if encoding == "utf-16":
        # piexif (A1111) writes big-endian; some tools write little-endian without a BOM.
        if payload[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return payload.decode("utf-16", "replace")
        return payload.decode(_utf16_order(payload), "replace")
    return payload.decode(encoding, "replace").rstrip("\0")


def _utf16_order(payload: bytes) -> str:
    """UTF-16 byte order without a BOM, from where the zero bytes of ASCII characters fall.

    The parameter line is ASCII, so the high (zero) bytes sit at even offsets in big-endian
    text and at odd offsets in little-endian text, whatever script the prompt starts with.
    A tie (no ASCII at all) means big-endian, what piexif and so A1111 write.
    """
    even_zeros = payload[0::2].count(0)
    odd_zeros = payload[1::2].count(0)
    return "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"


def _exif_user_comment(image: Image.Image) -> str | None:
    try:
        raw = image.getexif().get_ifd(EXIF_IFD).get(EXIF_USER_COMMENT)
    except (AttributeError, KeyError, OSError, ValueError):
        return None
    return decode_user_comment(raw).rstrip("\0") if raw else None


def _from_json(text: str) -> str | None:
    """JSON metadata of a known writer as infotext; None for anything else."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        parts = parts_from_json(json.loads(text))
    except json.JSONDecodeError:
        return None
    return format_infotext(*parts) if parts else None


def _novelai_infotext(texts: dict, size: tuple[int, int]) -> str | None:
    """NovelAI's JSON ``Comment`` in A1111's infotext form (what A1111 does on paste)."""
    if texts.get("Software") != "NovelAI" or "Comment" not in texts:
        return None
    try:
        comment = json.loads(texts["Comment"])
    except (TypeError, json.JSONDecodeError):
        return None
    if not isinstance(comment, dict):
        return None
    return format_infotext(*novelai_parts(comment, texts.get("Description"), size))
