"""Unknown files keep their reason; summaries are short plain lines."""

from pantry.identify import identify
from pantry.identify.describe import explain_lines, human_count, summary_lines
from tests.identify.builders import SD1_KOHYA_MODULES, header, kohya_lora, ldm_vae, sd1_checkpoint


def test_junk_header_is_unknown_with_a_reason_naming_its_keys():
    ident = identify(header({"foo.bar.weight": (3, 3), "foo.baz": (2,)}))
    assert (ident.kind, ident.base, ident.confidence) == ("unknown", "unknown", "none")
    assert "foo" in ident.reason


def test_empty_header_is_unknown():
    assert identify(header()).reason == "the file holds no tensors"


def test_vae_and_text_encoder_without_a_model_is_a_conflict_not_a_guess():
    from tests.identify.builders import clip_l

    ident = identify(header(ldm_vae(), clip_l()))
    assert ident.kind == "unknown"
    assert "conflicting" in ident.reason


def test_identity_round_trips_through_json():
    from pantry.identify.identity import Identity

    ident = identify(header(kohya_lora(SD1_KOHYA_MODULES), metadata={"ss_network_alpha": "4"}))
    assert Identity.from_json(ident.to_json()) == ident


def test_summary_lines_for_a_checkpoint_lacking_its_vae():
    h = sd1_checkpoint()
    for key in [k for k in h.tensors if k.startswith("first_stage_model.")]:
        del h.tensors[key]
    lines = summary_lines(identify(h))
    assert lines[0].startswith("checkpoint · sd1 · fp16 · ")
    assert "lacks: vae" in lines


def test_summary_lines_for_unknown_say_why():
    lines = summary_lines(identify(header({"x": (1,)})))
    assert lines[0].startswith("unknown · base unknown")
    assert lines[1].startswith("why unknown: ")


def test_explain_lines_name_their_source():
    lines = explain_lines(identify(sd1_checkpoint()))
    assert any(
        line.startswith("base: cross-attention") and line.endswith("[structure]") for line in lines
    )


def test_human_count():
    assert human_count(3_500_000_000) == "3.5B"
    assert human_count(860_000) == "860K"
    assert human_count(12) == "12"
