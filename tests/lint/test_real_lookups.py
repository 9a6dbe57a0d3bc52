"""The default LintContext look-ups: the real CLIP tokenizer and coverage from real headers."""

from __future__ import annotations

from types import SimpleNamespace

from pantry.lint import LintConfig, LintContext, lint
from pantry.lint.context import HeaderCoverage
from tests.fixtures.modelfiles import write_model
from tests.lint import builders as b


def test_prompt_chunk_rule_counts_with_the_clip_tokenizer():
    context = LintContext()  # real tokenizer, bundled vocabulary
    at_limit = b.recipe_with(b.realistic_vision(), prompt=" ".join(["cat"] * 75))
    over = b.recipe_with(b.realistic_vision(), prompt=" ".join(["cat"] * 76))
    assert lint(at_limit, LintConfig(select=["PP501"]), context) == []
    [finding] = lint(over, LintConfig(select=["PP501"]), context)
    assert "76 CLIP tokens" in finding.message and "2 chunks" in finding.message


def test_coverage_from_headers_tells_sd1_from_sdxl(tmp_path):
    lora = SimpleNamespace(path=write_model(tmp_path, "kohya_sd15_lora"))
    sd15 = SimpleNamespace(path=write_model(tmp_path, "sd15_checkpoint"))
    sdxl = SimpleNamespace(path=write_model(tmp_path, "sdxl_base_checkpoint"))
    probe = HeaderCoverage()
    assert probe(lora, sd15) == 1.0
    assert probe(lora, sdxl) < 0.5


def test_coverage_of_an_unreadable_file_is_unknown(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model")
    sd15 = SimpleNamespace(path=write_model(tmp_path, "sd15_checkpoint"))
    assert HeaderCoverage()(SimpleNamespace(path=junk), sd15) is None
