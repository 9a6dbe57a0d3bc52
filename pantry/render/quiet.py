"""Keep diffusers' and transformers' own output off stderr while pantry renders.

Both libraries log warnings that say nothing to a pantry user ("CLIPImageProcessor requires
torchvision", "modules ... that should be kept in float32: []" on every single-file load) and
draw tqdm bars ("Writing model shards", "Loading pipeline components") under pantry's own rich
progress bar. ``quiet_libraries()`` lowers them to errors only for the duration of a block and
puts the previous settings back, so a program that uses pantry as a library keeps its own.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

# Python warnings (FutureWarning, numpy DeprecationWarning in schedulers, torchsde's
# "Should have ta>=t0") raised from inside these packages are noise to a pantry user too.
NOISY_PACKAGES = r"(diffusers|transformers|peft|torchsde)(\.|$)"


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    saved = [
        (module, module.get_verbosity(), module.is_progress_bar_enabled())
        for module in (diffusers_logging, transformers_logging)
    ]
    try:
        for module, _, _ in saved:
            module.set_verbosity_error()
            module.disable_progress_bar()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=NOISY_PACKAGES)
            yield
    finally:
        for module, verbosity, progress in saved:
            module.set_verbosity(verbosity)
            if progress:
                module.enable_progress_bar()
