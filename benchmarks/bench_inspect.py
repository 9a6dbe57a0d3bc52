"""Inspect throughput against a bare header-parsing loop over the same files (target <= 1.5x).

    python benchmarks/bench_inspect.py [--files 400]

Writes a folder of header-faithful SDXL checkpoints and LoRAs (sparse: gigabytes on paper,
nothing on disk), then times, in the same run:
  baseline: open, read 8 bytes, read the header, json.loads — nothing else;
  pantry:   read_header (validated) + identify for every file, as `pantry inspect` does;
  and, when orjson is installed, the baseline with orjson.loads for reference.
Times are CPU seconds of this process (time.process_time), best of --repeats.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pantry.demo import layout_tensors  # noqa: E402
from pantry.demo.sparse import write_sparse_safetensors  # noqa: E402
from pantry.formats import read_header  # noqa: E402
from pantry.identify import identify  # noqa: E402

try:  # not a dependency: only a reference point when installed
    import orjson
except ImportError:
    orjson = None

MIX = ("sdxl_base_checkpoint", "kohya_sdxl_lora", "kohya_sd15_lora", "sdxl_vae")


def build(folder: Path, count: int) -> list[Path]:
    layouts = {name: layout_tensors(name, "F16") for name in MIX}
    paths = []
    for i in range(count):
        name = MIX[i % len(MIX)]
        meta = {"ss_output_name": f"file{i}"} if "lora" in name else None
        path = folder / f"{name}_{i}.safetensors"
        paths.append(write_sparse_safetensors(path, layouts[name], meta))
    return paths


def bare_loop(paths: list[Path]) -> None:
    for path in paths:
        with open(path, "rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            json.loads(handle.read(length))


def pantry_loop(paths: list[Path]) -> None:
    for path in paths:
        identify(read_header(path))


def orjson_loop(paths: list[Path]) -> None:
    """The bare loop with orjson, to show what a faster parser alone would change."""
    for path in paths:
        with open(path, "rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            orjson.loads(handle.read(length))


def best_of(fn, paths: list[Path], repeats: int) -> float:
    # CPU time of this process: the machine's cores are shared, and wall time would count
    # other people's work against whichever side ran while they were busy.
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn(paths)
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = build(Path(tmp), args.files)
        bare_loop(paths)  # warm the page cache for both contestants
        base = best_of(bare_loop, paths, args.repeats)
        ours = best_of(pantry_loop, paths, args.repeats)
        fast = best_of(orjson_loop, paths, args.repeats) if orjson is not None else None
    per_file = ours / len(paths) * 1e3
    print(f"inspect: {len(paths)} files (SDXL checkpoints, LoRAs, VAEs); CPU seconds, best of")
    print(f"  bare header loop   {base:8.3f} s")
    print(f"  read_header+identify {ours:6.3f} s  ({per_file:.2f} ms/file)")
    print(f"  ratio {ours / base:.2f}x (target <= 1.50x)")
    if fast is not None:
        print(f"  (bare loop with orjson {fast:.3f} s: pantry / it {ours / fast:.2f}x)")


if __name__ == "__main__":
    main()
