"""The sample recipes against the real demo: `pantry demo`'s files, scanned into a real catalog.

test_samples.py checks the same expectations against hand-built assets; this one catches the
day identify and the builders stop agreeing about what the demo files are.
"""

from __future__ import annotations

import pytest

from pantry.catalog import Catalog
from pantry.demo import build_demo_folder
from pantry.lint.context import LintContext
from pantry.lint.files import lint_file
from tests.lint.test_samples import SAMPLES, expected_codes


@pytest.fixture(scope="module")
def demo_catalog(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    build_demo_folder(root)
    catalog = Catalog.open(root / "catalog.db")
    catalog.scan([root / "models"])
    yield catalog
    catalog.close()


@pytest.fixture(scope="module")
def context():
    return LintContext()  # real tokenizer, real headers: what `pantry lint` uses


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_sample_finds_exactly_what_it_says_on_the_demo(path, demo_catalog, context):
    outcome = lint_file(path, demo_catalog, context)
    assert outcome.error is None
    assert {f.code for f in outcome.findings} == expected_codes(path)
