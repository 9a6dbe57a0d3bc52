"""Every rule fires on a recipe that breaks it and stays quiet on one that does not."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pantry.lint import LintConfig, LintContext, all_rules, lint
from pantry.recipes.model import ResolvedRecipe
from tests.lint import builders as b

Case = tuple[Callable[[], ResolvedRecipe], Callable[[], ResolvedRecipe], dict]


def _coverage(share: float) -> dict:
    return {"lora_coverage": lambda lora, ckpt: share}


def _words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def _count_words(text: str) -> int:
    return len(text.split())


# code -> (breaks the rule, keeps it, LintContext overrides for both)
CASES: dict[str, Case] = {
    "PA101": (
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.missing("lora", "add_detial")]),
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.add_detail()]),
        {},
    ),
    "PA102": (
        lambda: b.recipe_with(
            b.realistic_vision(),
            loras=[
                b.Resolution(
                    slot="lora",
                    ref="add_detail",
                    problem="ambiguous",
                    candidates=[b.add_detail(), b.add_detail()],
                )
            ],
        ),
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.add_detail()]),
        {},
    ),
    "PA103": (
        lambda: b.recipe_with(b.add_detail()),
        lambda: b.recipe_with(b.realistic_vision()),
        {},
    ),
    "PA104": (
        lambda: b.recipe_with(
            b.sdxl_base(), vae=b.missing("vae", "hf://madebyollin/x/y.safetensors", "not_pulled")
        ),
        lambda: b.recipe_with(b.sdxl_base(), vae=b.sdxl_vae_fix()),
        {},
    ),
    "PA105": (
        lambda: b.recipe_with(b.asset("realisticVisionV60", status="missing")),
        lambda: b.recipe_with(b.realistic_vision()),
        {},
    ),
    "PC201": (
        lambda: b.recipe_with(b.sdxl_base(), loras=[b.add_detail()], width=1024, height=1024),
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.add_detail()]),
        {},
    ),
    "PC202": (
        lambda: b.recipe_with(b.sdxl_base(), vae=b.vae_mse()),
        lambda: b.recipe_with(b.realistic_vision(), vae=b.vae_mse()),
        {},
    ),
    "PC203": (
        lambda: b.recipe_with(b.sdxl_base(), embeddings=[b.easynegative()]),
        lambda: b.recipe_with(b.realistic_vision(), embeddings=[b.easynegative()]),
        {},
    ),
    "PC204": (
        lambda: b.recipe_with(b.sdxl_base(), controlnets=[b.asset("canny15", "controlnet")]),
        lambda: b.recipe_with(b.realistic_vision(), controlnets=[b.asset("canny", "controlnet")]),
        {},
    ),
    "PC205": (
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.add_detail()]),
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.add_detail()]),
        {"bad": _coverage(0.3), "good": _coverage(1.0)},
    ),
    "PC206": (
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.add_detail()]),
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.add_detail()]),
        {"bad": _coverage(0.7), "good": _coverage(0.97)},
    ),
    "PC207": (
        lambda: b.recipe_with(b.realistic_vision(), vae=b.flux_ae()),
        lambda: b.recipe_with(b.realistic_vision(), vae=b.vae_mse()),
        {},
    ),
    "PC208": (
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.asset("mystery", "lora", "unknown")]),
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.add_detail()]),
        {},
    ),
    "PC209": (
        lambda: b.recipe_with(b.refiner(), width=1024, height=1024),
        lambda: b.recipe_with(b.sdxl_base(), width=1024, height=1024),
        {},
    ),
    "PC210": (
        lambda: b.recipe_with(b.inpainting()),
        lambda: b.recipe_with(b.realistic_vision()),
        {},
    ),
    "PI601": (
        lambda: b.recipe_with(b.old_model()),
        lambda: b.recipe_with(b.realistic_vision()),
        {},
    ),
    "PI602": (
        lambda: b.recipe_with(
            b.asset("realisticVisionV60", status="unreadable", error="header overruns the file")
        ),
        lambda: b.recipe_with(b.realistic_vision()),
        {},
    ),
    "PI603": (
        lambda: b.recipe_with(b.no_vae_checkpoint()),
        lambda: b.recipe_with(b.no_vae_checkpoint(), vae=b.vae_mse()),
        {},
    ),
    "PI604": (
        lambda: b.recipe_with(
            b.asset(
                "clipless", components={"present": ["unet", "vae"], "missing": ["text_encoder"]}
            )
        ),
        lambda: b.recipe_with(b.realistic_vision()),
        {},
    ),
    "PI605": (
        lambda: b.recipe_with(b.sdxl_base(), vae=b.sdxl_vae(), width=1024, height=1024),
        lambda: b.recipe_with(b.sdxl_base(), vae=b.sdxl_vae_fix(), width=1024, height=1024),
        {},
    ),
    "PI606": (
        lambda: b.recipe_with(
            b.sdxl_base(),
            vae=b.sdxl_vae_undecided("my-sdxl-vae-fp16-fix", fp16_fix=True),
            width=1024,
            height=1024,
        ),
        lambda: b.recipe_with(b.sdxl_base(), vae=b.sdxl_vae_fix(), width=1024, height=1024),
        {},
    ),
    "PI607": (
        lambda: b.recipe_with(b.sdxl_base(), width=1024, height=1024),
        lambda: b.recipe_with(b.sdxl_base(), vae=b.sdxl_vae_fix(), width=1024, height=1024),
        {},
    ),
    "PP501": (
        lambda: b.recipe_with(b.realistic_vision(), prompt=_words(80)),
        lambda: b.recipe_with(b.realistic_vision(), prompt=_words(75)),
        {"count_tokens": _count_words},
    ),
    "PP502": (
        lambda: b.recipe_with(b.anime_dream(), loras=[b.lineart_declared()], prompt="a castle"),
        lambda: b.recipe_with(
            b.anime_dream(), loras=[b.lineart_declared()], prompt="(sketch:1.2), a castle"
        ),
        {},
    ),
    "PP505": (
        lambda: b.recipe_with(b.anime_dream(), loras=[b.guessed_lineart()], prompt="a castle"),
        lambda: b.recipe_with(
            b.anime_dream(), loras=[b.guessed_lineart()], prompt="lineart, a castle"
        ),
        {},
    ),
    "PP503": (
        lambda: b.recipe_with(
            b.realistic_vision(), loras=[b.missing("lora", "add_detial", from_prompt=True)]
        ),
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.add_detail()]),
        {},
    ),
    "PP504": (
        lambda: b.recipe_with(b.sdxl_base(), prompt="score_9, score_8_up, a fox"),
        lambda: b.recipe_with(b.pony(), prompt="score_9, score_8_up, a fox"),
        {},
    ),
    "PS301": (
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.anime_lineart()]),
        lambda: b.recipe_with(b.anime_dream(), loras=[b.anime_lineart()]),
        {},
    ),
    "PT401": (
        lambda: b.recipe_with(b.realistic_vision(), clip_skip=13),
        lambda: b.recipe_with(b.realistic_vision(), clip_skip=12),
        {},
    ),
    "PT402": (
        lambda: b.recipe_with(b.sdxl_base(), clip_skip=2),
        lambda: b.recipe_with(b.realistic_vision(), clip_skip=2),
        {},
    ),
    "PT403": (
        lambda: b.recipe_with(b.anime_dream()),
        lambda: b.recipe_with(b.anime_dream(), clip_skip=2),
        {},
    ),
    "PT404": (
        lambda: b.recipe_with(b.realistic_vision(), width=500),
        lambda: b.recipe_with(b.realistic_vision(), width=504),
        {},
    ),
    "PT405": (
        lambda: b.recipe_with(b.sdxl_base(), width=512, height=512),
        lambda: b.recipe_with(b.sdxl_base(), width=832, height=1216),
        {},
    ),
    "PT412": (
        lambda: b.recipe_with(b.anime_dream(), loras=[b.anime_lineart()], prompt="lineart"),
        lambda: b.recipe_with(
            b.anime_dream(), loras=[b.anime_lineart()], prompt="lineart", clip_skip=2
        ),
        {},
    ),
    "PT413": (
        lambda: b.recipe_with(b.flux_dev(), width=1032, height=1024, cfg_scale=1.0),
        lambda: b.recipe_with(b.flux_dev(), width=1024, height=1024, cfg_scale=1.0),
        {},
    ),
    "PT406": (
        lambda: b.recipe_with(b.realistic_vision(), steps=4),
        lambda: b.recipe_with(b.flux_schnell(), steps=4, cfg_scale=1.0, width=1024, height=1024),
        {},
    ),
    "PT407": (
        lambda: b.recipe_with(b.realistic_vision(), cfg_scale=1.0),
        lambda: b.recipe_with(b.flux_dev(), cfg_scale=1.0, width=1024, height=1024),
        {},
    ),
    "PT408": (
        lambda: b.recipe_with(b.realistic_vision(), sampler="DPM++ 2M Karass"),
        lambda: b.recipe_with(b.realistic_vision(), sampler="DPM++ 2M Karras"),
        {},
    ),
    "PT409": (
        lambda: b.recipe_with(b.realistic_vision(), scheduler="karass"),
        lambda: b.recipe_with(b.realistic_vision(), scheduler="karras"),
        {},
    ),
    "PT410": (
        lambda: b.recipe_with(
            b.realistic_vision(), loras=[b.found("lora", b.add_detail(), weight=5)]
        ),
        lambda: b.recipe_with(
            b.realistic_vision(), loras=[b.found("lora", b.add_detail(), weight=-1.5)]
        ),
        {},
    ),
    "PT411": (
        lambda: _twice(b.add_detail()),
        lambda: b.recipe_with(b.realistic_vision(), loras=[b.add_detail(), b.anime_lineart()]),
        {},
    ),
}


def _twice(lora) -> ResolvedRecipe:
    return b.recipe_with(
        b.realistic_vision(),
        loras=[b.found("lora", lora, weight=0.5), b.found("lora", lora, weight=0.8)],
    )


def _context(overrides: dict, which: str) -> LintContext:
    shared = {k: v for k, v in overrides.items() if k not in ("bad", "good")}
    return b.quiet_context(**shared, **overrides.get(which, {}))


def _codes(resolved: ResolvedRecipe, context: LintContext, code: str) -> list[str]:
    return [f.code for f in lint(resolved, LintConfig(select=[code]), context)]


def test_every_registered_rule_has_a_case():
    assert sorted(CASES) == [r.code for r in all_rules()]


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fires_on_a_recipe_that_breaks_it(code):
    bad, _, overrides = CASES[code]
    assert code in _codes(bad(), _context(overrides, "bad"), code)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_is_quiet_on_a_recipe_that_keeps_it(code):
    _, good, overrides = CASES[code]
    assert _codes(good(), _context(overrides, "good"), code) == []


@pytest.mark.parametrize("code", sorted(CASES))
def test_good_recipes_of_the_table_trip_no_error(code):
    # The "keeps it" recipes are meant to be sane: no rule at all should call them broken.
    _, good, overrides = CASES[code]
    errors = [
        f
        for f in lint(good(), LintConfig(), _context(overrides, "good"))
        if f.severity == "error" and f.code != "PC208"
    ]
    assert errors == []
