"""Put a recipe's LoRAs on a loaded pipeline, at their weights, or fail loudly.

diffusers (with peft) reads kohya, diffusers/peft and the LyCORIS formats it converts. A LoRA
it cannot apply is an error here, never a silent no-op: loading raises, patches no module, or
leaves some of its weights unused (diffusers only logs a warning for that).

Adapters stay loaded between jobs on the same checkpoint: a batch that reuses a LoRA at another
weight only calls ``set_adapters``; LoRAs no longer wanted are deleted, and with none wanted
the pipeline is restored with ``unload_lora_weights``.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from pantry.errors import RenderError
from pantry.render.job import LoraJob

COMPONENTS = ("unet", "text_encoder", "text_encoder_2")
PARTIAL_LOAD_WARNING = "led to unexpected keys"
PARTIAL_LOAD_LOGGER = "diffusers.utils.peft_utils"  # where diffusers logs it

# Weight-name endings of LyCORIS formats that diffusers' converters do not translate: when a
# load fails on such a file, this names the format instead of diffusers' list of raw keys.
LYCORIS_MARKERS = {
    ".hada_w1_a": "LyCORIS LoHa",
    ".lokr_w1": "LyCORIS LoKr",
    ".lokr_w1_a": "LyCORIS LoKr",
    ".lokr_w2": "LyCORIS LoKr",
    ".lokr_w2_a": "LyCORIS LoKr",
    ".on_input": "LyCORIS IA3",
    ".diff": "LyCORIS full (diff)",
}
# Fragments of diffusers' load errors -> what they mean for the user.
KNOWN_FAILURES = {
    "ignore_mismatched_sizes": "its layer shapes do not fit this checkpoint (a LoRA for another "
    "base model?)",
    "size mismatch": "its layer shapes do not fit this checkpoint (a LoRA for another base model?)",
    "Could not automatically infer state dict type": "diffusers could not recognise its "
    "text-encoder weights (a kohya text-encoder LoRA without out_proj layers?)",
}


class LoraState:
    """The adapters currently loaded into one pipeline, by file."""

    def __init__(self) -> None:
        self.adapters: dict[Path, str] = {}
        self._counter = 0

    def apply(self, pipe, loras: list[LoraJob]) -> None:
        weights = _weights_by_path(loras)
        if not weights:
            if self.adapters:
                pipe.unload_lora_weights()
                self.adapters.clear()
            return
        stale = [name for path, name in self.adapters.items() if path not in weights]
        if stale:
            pipe.delete_adapters(stale)
            self.adapters = {p: n for p, n in self.adapters.items() if n not in stale}
        for path in weights:
            if path not in self.adapters:
                self._counter += 1
                name = f"pantry_{self._counter}"
                load_lora(pipe, path, name)
                self.adapters[path] = name
        names = [self.adapters[path] for path in weights]
        pipe.set_adapters(
            names, adapter_weights=[_component_weights(pipe, w) for w in weights.values()]
        )


def load_lora(pipe, path: Path, adapter_name: str) -> int:
    """Load one LoRA file (or diffusers LoRA folder); returns how many modules it patches."""
    warnings = _DiffusersWarnings()
    try:
        with warnings:
            pipe.load_lora_weights(str(path), adapter_name=adapter_name)
    except Exception as error:  # diffusers raises ValueError, KeyError, RuntimeError alike
        _forget(pipe, adapter_name)  # a failed load can leave the adapter on some components
        raise RenderError(f"{path}: LoRA could not be applied: {_why(path, error)}") from error
    patched = count_patched_modules(pipe, adapter_name)
    problem = None
    if patched == 0:
        problem = "it matches no module of the checkpoint"
    elif warnings.partial:
        problem = "part of its weights match no module of the checkpoint"
    if problem:
        _forget(pipe, adapter_name)
        raise RenderError(f"{path}: LoRA could not be applied: {problem}")
    return patched


def count_patched_modules(pipe, adapter_name: str) -> int:
    from peft.tuners.tuners_utils import BaseTunerLayer

    count = 0
    for component in COMPONENTS:
        model = getattr(pipe, component, None)
        if model is None:
            continue
        for module in model.modules():
            if isinstance(module, BaseTunerLayer) and any(
                adapter_name in getattr(module, attr, {}) for attr in module.adapter_layer_names
            ):
                count += 1
    return count


def _weights_by_path(loras: list[LoraJob]) -> dict[Path, tuple[float, float]]:
    """(text encoder weight, UNet weight) per file; a file named twice adds up, as in A1111."""
    weights: dict[Path, tuple[float, float]] = {}
    for lora in loras:
        te, unet = weights.get(lora.path, (0.0, 0.0))
        unet_weight = lora.weight if lora.unet_weight is None else lora.unet_weight
        weights[lora.path] = (te + lora.weight, unet + unet_weight)
    return weights


def _component_weights(pipe, weights: tuple[float, float]) -> float | dict[str, float]:
    te, unet = weights
    if te == unet:
        return te
    encoders = [c for c in COMPONENTS[1:] if getattr(pipe, c, None) is not None]
    return {"unet": unet, **dict.fromkeys(encoders, te)}


def _forget(pipe, adapter_name: str) -> None:
    with contextlib.suppress(Exception):  # nothing was registered under that name
        pipe.delete_adapters([adapter_name])


def _why(path: Path, error: BaseException) -> str:
    fmt = lycoris_format(path)
    if fmt:
        return f"diffusers cannot apply {fmt} weights (the built-in renderer has no converter)"
    text = str(error)
    for fragment, meaning in KNOWN_FAILURES.items():
        if fragment in text:
            return meaning
    return _first_line(error)


def lycoris_format(path: Path) -> str | None:
    """The LyCORIS format diffusers cannot read that the file's weight names show, if any."""
    from safetensors import safe_open

    if path.suffix.lower() != ".safetensors" or not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as handle:
            keys = list(handle.keys())
    except Exception:  # unreadable: diffusers' own message says more
        return None
    for key in keys:
        for ending, fmt in LYCORIS_MARKERS.items():
            if key.endswith(ending):
                return fmt
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


class _DiffusersWarnings(logging.Handler):
    """Notices diffusers' warning that some LoRA weights found no module to patch.

    It listens on the logger that emits it, at warning level and without passing records on,
    so it hears the warning while ``quiet_libraries`` keeps diffusers at errors only.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.partial = False
        self._logger = logging.getLogger(PARTIAL_LOAD_LOGGER)
        self._saved = (self._logger.level, self._logger.propagate)

    def emit(self, record: logging.LogRecord) -> None:
        if PARTIAL_LOAD_WARNING in record.getMessage():
            self.partial = True

    def __enter__(self):
        self._saved = (self._logger.level, self._logger.propagate)
        self._logger.setLevel(logging.WARNING)
        self._logger.propagate = False
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._saved[0])
        self._logger.propagate = self._saved[1]
