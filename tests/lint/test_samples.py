"""The sample recipes: each says what it breaks (`# expect:`), and linting finds exactly that.

They run against hand-built assets shaped like the demo catalog (see builders.demo_assets);
`pantry demo` builds the real files these names refer to.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pantry.lint.files import lint_file
from tests.lint import builders as b

SAMPLES = Path(__file__).parents[2] / "sample_recipes"
FAMILY_WORDS = ("assets", "compatibility", "style", "settings", "prompt", "integrity")


def crude_token_count(text: str) -> int:
    # A lower bound on CLIP tokens: every word and punctuation mark is at least one token.
    return len(re.findall(r"\w+|[^\w\s]", text))


def expected_codes(path: Path) -> set[str]:
    header = path.read_text().splitlines()[:4]
    [line] = [line for line in header if line.startswith("# expect:")]
    words = line.removeprefix("# expect:").split()
    return set() if words == ["nothing"] else set(words)


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_sample_finds_exactly_what_it_says(path):
    context = b.quiet_context(count_tokens=crude_token_count)
    outcome = lint_file(path, b.FakeCatalog(b.demo_assets()), context)
    assert outcome.error is None
    assert {f.code for f in outcome.findings} == expected_codes(path)


def test_samples_start_with_a_comment_saying_what_is_wrong():
    for path in SAMPLES.glob("*.toml"):
        first = path.read_text().splitlines()[0]
        assert first.startswith(("# GOOD:", "# BROKEN (")), path.name


def test_every_rule_family_has_a_broken_sample():
    firsts = [p.read_text().splitlines()[0] for p in SAMPLES.glob("broken_*.toml")]
    for family in FAMILY_WORDS:
        assert any(f"# BROKEN ({family}" in line for line in firsts), family
