"""Run every benchmark: ``python -m benchmarks [NAME...]`` or ``python benchmarks/run.py``.

Each ``bench_*.py`` file in this folder is a script that prints its own results (ratios
against a baseline measured in the same run). They run one after another, each in its own
process with its default settings, so one benchmark's caches and threads never colour the
next. NAMEs select scripts whose file name contains them (``python -m benchmarks catalog``).
To pass options, run a script directly: ``python benchmarks/bench_catalog.py --help``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = list(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if any(n in s.stem for n in names)]
    failed = 0
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        done = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        failed += done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
