"""A catalog run in its own process, for the kill -9 and concurrency tests.

    python -m tests.catalog.worker scan|hash CATALOG [ROOT...] [--delay S] [--batch N]

``--delay`` slows every header read (scan) or every file hashed (hash), so that a test can
kill the process part-way.
"""

from __future__ import annotations

import argparse
import time

from pantry import formats
from pantry.catalog import Catalog


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["scan", "hash"])
    parser.add_argument("catalog")
    parser.add_argument("roots", nargs="*")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--parallel", default="threads")
    args = parser.parse_args()
    read = formats.read_header

    def slow_read(path):
        time.sleep(args.delay)
        return read(path)

    formats.read_header = slow_read
    with Catalog.open(args.catalog) as catalog:
        if args.action == "scan":
            # Forked readers inherit the slowed read_header patched in above.
            catalog.scan(args.roots, batch_size=args.batch, parallel=args.parallel)
        else:
            catalog.hash(None, progress=lambda *_: time.sleep(args.delay))


if __name__ == "__main__":
    main()
