"""Renderer overhead against a bare diffusers call, and what loading once per batch saves.

    python benchmarks/bench_render.py [--steps 20] [--size 128] [--repeats 5]

Both sides use the same tiny SD1 pipeline (a single file loaded through pantry's loader),
scheduler, size, steps, CFG and seed; medians of several runs. Prints ratios (target for the
overhead: <= 1.05x). The batch part renders N recipes on one checkpoint with one Renderer
against a fresh load per recipe.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from pantry.render import Renderer, RenderJob
from pantry.render.demo import build_demo_model
from pantry.render.samplers import make_scheduler


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))

    folder = Path(tempfile.mkdtemp(prefix="pantry-bench-"))
    checkpoint = build_demo_model(folder)
    job = RenderJob(
        checkpoint=checkpoint,
        base="sd1",
        prompt="a lighthouse at dusk, dramatic sky",
        negative_prompt="blurry",
        width=args.size,
        height=args.size,
        steps=args.steps,
        cfg_scale=7.0,
        sampler="DPM++ 2M",
        scheduler="karras",
        seed=1,
    )
    renderer = Renderer(device="auto", dtype="auto")
    renderer.render(job)  # loads the pipeline once
    pipe = renderer._loaded.pipe
    scheduler_config = renderer._loaded.scheduler_config

    def bare() -> None:
        pipe.scheduler = make_scheduler(scheduler_config, job.sampler, job.scheduler)
        pipe(
            prompt=job.prompt,
            negative_prompt=job.negative_prompt,
            width=job.width,
            height=job.height,
            num_inference_steps=job.steps,
            guidance_scale=job.cfg_scale,
            generator=torch.Generator("cpu").manual_seed(job.seed),
            output_type="pil",
        )

    def ours() -> None:
        renderer.render(job)

    bare_s = median_time(bare, args.repeats)
    ours_s = median_time(ours, args.repeats)
    print(f"device {renderer.device}, {args.size}x{args.size}, {args.steps} steps, tiny SD1")
    print(f"bare diffusers call   {bare_s * 1000:8.1f} ms")
    print(f"pantry Renderer       {ours_s * 1000:8.1f} ms")
    print(f"overhead ratio        {ours_s / bare_s:8.3f}x  (target <= 1.05x)")

    jobs = [RenderJob(**{**job.__dict__, "seed": seed}) for seed in range(args.batch)]
    start = time.perf_counter()
    list(Renderer(device="auto", dtype="auto").render_batch(jobs))
    batched = time.perf_counter() - start
    start = time.perf_counter()
    for one in jobs:
        Renderer(device="auto", dtype="auto").render(one)
    reloading = time.perf_counter() - start
    print(f"batch of {args.batch}, one load    {batched:8.2f} s")
    print(f"batch of {args.batch}, load each   {reloading:8.2f} s")
    print(f"time saved by loading once: {reloading / batched:.2f}x")


if __name__ == "__main__":
    main()
