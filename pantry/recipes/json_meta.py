"""Generation metadata that other tools write as JSON, read as A1111 infotext parts.

Fooocus (``parameters`` JSON), SwarmUI (``sui_image_params``), InvokeAI (``invokeai_metadata``,
and the older ``sd-metadata``) and NovelAI (the ``Comment`` JSON) each get one small function
that maps their keys onto A1111's infotext keys; ``parse_infotext`` then reads the result like
any infotext. ComfyUI's graph JSON is recognised only to say that it cannot be read.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pantry.recipes.prompt import drop_model_extension
from pantry.recipes.samplers import split_sampler

Parts = tuple[str, str, dict[str, str]]  # prompt, negative prompt, infotext parameters

# A1111 does this for NovelAI images: their SD1 models were trained for clip skip 2 and ENSD.
NOVELAI_DEFAULTS = {"Clip skip": "2", "ENSD": "31337"}
NOVELAI_SCHEDULES = {"karras": "Karras", "exponential": "Exponential"}
FOOOCUS_KEYS = {
    "steps": "Steps",
    "sampler": "Sampler",
    "scheduler": "Scheduler",
    "guidance_scale": "CFG scale",
    "seed": "Seed",
    "base_model": "Model",
    "base_model_hash": "Model hash",
    "vae": "VAE",
    "clip_skip": "Clip skip",
    "refiner_model": "Refiner",
    "refiner_model_hash": "Refiner hash",
    "version": "Version",
}
# Keys whose value is the prompt or already read another way.
FOOOCUS_SKIP = {"prompt", "negative_prompt", "full_prompt", "full_negative_prompt", "loras"}
FOOOCUS_NO_VAE = ("Default (model)", "None", "")
SWARM_KEYS = {
    "steps": "Steps",
    "cfgscale": "CFG scale",
    "seed": "Seed",
    "sampler": "Sampler",
    "scheduler": "Scheduler",
    "model": "Model",
    "vae": "VAE",
}
SWARM_SKIP = {"prompt", "negativeprompt", "width", "height", "loras", "loraweights"}
INVOKE_HASH_PREFIXES = ("sha256:", "blake3:")
RESOLUTION_RE = re.compile(r"(\d+)\D+(\d+)")


def is_comfy_graph(data: Any) -> bool:
    """ComfyUI's API prompt ({id: {class_type, inputs}}) or its UI workflow ({nodes, links})."""
    if not isinstance(data, dict):
        return False
    if "nodes" in data and "links" in data:
        return True
    return bool(data) and all(isinstance(v, dict) and "class_type" in v for v in data.values())


def parts_from_json(data: Any) -> Parts | None:
    """The infotext parts of a known JSON metadata object, or None when it is not one."""
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("sui_image_params"), dict):
        return swarm_parts(data)
    if "uc" in data and "scale" in data:
        return novelai_parts(data)
    if (
        "full_prompt" in data
        or "base_model" in data
        or str(data.get("version", "")).startswith("Fooocus")
    ):
        return fooocus_parts(data)
    if "positive_prompt" in data or "generation_mode" in data:
        return invokeai_parts(data)
    if isinstance(data.get("image"), dict) and "model_weights" in data:
        return invokeai_legacy_parts(data)
    return None


def novelai_parts(comment: dict, description: str | None = None, size=None) -> Parts:
    """NovelAI's ``Comment`` JSON (with the PNG ``Description`` as prompt, when there is one)."""
    v4_prompt = comment.get("v4_prompt", {}).get("caption", {}).get("base_caption")
    v4_negative = comment.get("v4_negative_prompt", {}).get("caption", {}).get("base_caption")
    prompt = description or comment.get("prompt") or v4_prompt or ""
    width, height = comment.get("width"), comment.get("height")
    if (width is None or height is None) and size:
        width, height = size
    params = {
        "Steps": comment.get("steps"),
        "Sampler": split_sampler(str(comment.get("sampler") or "Euler a"))[0],
        "Schedule type": NOVELAI_SCHEDULES.get(str(comment.get("noise_schedule", ""))),
        "CFG scale": comment.get("scale"),
        "Seed": comment.get("seed"),
        "Size": f"{width}x{height}" if width and height else None,
        **NOVELAI_DEFAULTS,
        "CFG rescale": comment.get("cfg_rescale"),
        "Uncond scale": comment.get("uncond_scale"),
    }
    return prompt, comment.get("uc") or v4_negative or "", _strings(params)


def fooocus_parts(data: dict) -> Parts:
    prompt = _joined(data.get("full_prompt")) or str(data.get("prompt", ""))
    negative = _joined(data.get("full_negative_prompt")) or str(data.get("negative_prompt", ""))
    params: dict[str, Any] = {}
    for key, value in data.items():
        if key in FOOOCUS_SKIP or value is None:
            continue
        if key == "resolution":
            params["Size"] = _size(value)
        elif key == "vae" and str(value) in FOOOCUS_NO_VAE:
            params["VAE"] = None
        else:
            params[FOOOCUS_KEYS.get(key, key)] = value
    loras = [item for item in data.get("loras") or [] if isinstance(item, list | tuple)]
    if loras:
        params["Lora hashes"] = ", ".join(f"{i[0]}: {i[2]}" for i in loras if len(i) > 2)
        params["Lora weights"] = ", ".join(f"{i[0]}: {i[1]}" for i in loras if len(i) > 1)
    return prompt, negative, _strings(params)


def swarm_parts(data: dict) -> Parts:
    image = data["sui_image_params"]
    params: dict[str, Any] = {}
    for key, value in image.items():
        if key in SWARM_SKIP or value is None:
            continue
        if key == "clipstopatlayer":
            params["Clip skip"] = abs(int(value))  # SwarmUI writes -2 for A1111's 2
        else:
            params[SWARM_KEYS.get(key, key)] = value
    if image.get("width") and image.get("height"):
        params["Size"] = f"{image['width']}x{image['height']}"
    prompt = str(image.get("prompt", ""))
    names = [str(n) for n in image.get("loras") or []]
    weights = [str(w) for w in image.get("loraweights") or []]
    tags = [
        f"<lora:{_stem(n)}:{w}>" for n, w in zip(names, weights + ["1"] * len(names), strict=False)
    ]
    lora_hashes = {}
    for model in data.get("sui_models") or []:
        digest = str(model.get("hash", "")).removeprefix("0x")
        if not digest:
            continue
        if model.get("param") == "model":
            params["Model hash"] = digest
        elif model.get("param") == "vae":
            params["VAE hash"] = digest
        elif model.get("param") == "loras":
            lora_hashes[_stem(str(model.get("name", "")))] = digest
    if lora_hashes:
        params["Lora hashes"] = ", ".join(f"{n}: {h}" for n, h in lora_hashes.items())
    prompt = ", ".join(p for p in (prompt, *tags) if p)
    return prompt, str(image.get("negativeprompt", "")), _strings(params)


def invokeai_parts(data: dict) -> Parts:
    """InvokeAI 3+ ``invokeai_metadata``: models are objects with a name and a hash."""
    params: dict[str, Any] = {
        "Steps": data.get("steps"),
        "Sampler": data.get("scheduler"),
        "CFG scale": data.get("cfg_scale"),
        "Seed": data.get("seed"),
        "Size": f"{data['width']}x{data['height']}" if "width" in data else None,
        "Clip skip": (data.get("clip_skip") or 0) + 1 if "clip_skip" in data else None,
    }
    model, vae = data.get("model") or {}, data.get("vae") or {}
    params["Model"], params["Model hash"] = _invoke_model(model)
    params["VAE"], params["VAE hash"] = _invoke_model(vae)
    tags, lora_hashes = [], []
    for item in data.get("loras") or []:
        lora = item.get("model") or item.get("lora") or {}
        name, digest = _invoke_model(lora)
        if name:
            tags.append(f"<lora:{name}:{item.get('weight', 1)}>")
            if digest:
                lora_hashes.append(f"{name}: {digest}")
    params["Lora hashes"] = ", ".join(lora_hashes) or None
    for key in ("cfg_rescale_multiplier", "generation_mode", "app_version", "seamless_x"):
        params[key] = data.get(key)
    prompt = ", ".join(p for p in (str(data.get("positive_prompt", "")), *tags) if p)
    return prompt, str(data.get("negative_prompt", "")), _strings(params)


def invokeai_legacy_parts(data: dict) -> Parts:
    """InvokeAI 2's ``sd-metadata``: the negative prompt sits in [brackets] in the prompt."""
    image = data["image"]
    prompt = image.get("prompt", "")
    if isinstance(prompt, list):
        prompt = " ".join(str(p.get("prompt", "")) for p in prompt if isinstance(p, dict))
    negative = " ".join(re.findall(r"\[([^\[\]]*)\]", prompt))
    prompt = re.sub(r"\s*\[[^\[\]]*\]", "", prompt).strip()
    params = {
        "Steps": image.get("steps"),
        "Sampler": image.get("sampler"),
        "CFG scale": image.get("cfg_scale"),
        "Seed": image.get("seed"),
        "Size": f"{image['width']}x{image['height']}" if "width" in image else None,
        "Model": data.get("model_weights"),
        "Model hash": data.get("model_hash"),
        "Version": data.get("app_version"),
    }
    return prompt, negative, _strings(params)


def _invoke_model(model: dict) -> tuple[str | None, str | None]:
    name = model.get("name") or model.get("model_name")
    digest = str(model.get("hash") or "")
    for prefix in INVOKE_HASH_PREFIXES:
        if digest.startswith(prefix):
            return name, digest[len(prefix) :]
    return name, None


def _strings(params: dict[str, Any]) -> dict[str, str]:
    """Infotext values are text: lists and objects as JSON, None and "" left out."""
    out = {}
    for key, value in params.items():
        if value is None or value == "":
            continue
        out[key] = json.dumps(value) if isinstance(value, list | dict) else str(value)
    return out


def _joined(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if v)
    return str(value or "")


def _size(value: Any) -> str | None:
    """Fooocus writes its resolution as "(1152, 896)"."""
    match = RESOLUTION_RE.search(str(value))
    return f"{match.group(1)}x{match.group(2)}" if match else None


def _stem(name: str) -> str:
    return drop_model_extension(name.replace("\\", "/").rsplit("/", 1)[-1])
