"""A catalog run in its own process, for the kill -9 and concurrency tests.

    python -m tests.catalog.worker scan|hash CATALOG [ROOT...] [--delay S] [--batch N] [--fake]

``--delay`` slows every header read (scan) or every file hashed (hash), so that a test can
kill the process part-way; ``--fake`` uses the stand-in readers of ``tests.catalog.fakes``.
"""

from __future__ import annotations

import argparse
import time

from pantry import formats, identify
from pantry.catalog import Catalog
from tests.catalog import fakes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["scan", "hash"])
    parser.add_argument("catalog")
    parser.add_argument("roots", nargs="*")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--fake", action="store_true")
    args = parser.parse_args()
    if args.fake:
        formats.read_header = fakes.fake_read_header
        identify.identify = fakes.fake_identify
    read = formats.read_header

    def slow_read(path):
        time.sleep(args.delay)
        return read(path)

    formats.read_header = slow_read
    with Catalog.open(args.catalog) as catalog:
        if args.action == "scan":
            catalog.scan(args.roots, batch_size=args.batch)
        else:
            catalog.hash(None, progress=lambda *_: time.sleep(args.delay))


if __name__ == "__main__":
    main()
