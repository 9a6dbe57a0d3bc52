"""hf:// refs: parsing, and finding the asset pulled for one."""

from __future__ import annotations

import pytest

from pantry.errors import HubError
from pantry.hub import find_pulled, is_hf_ref, parse_hf_ref


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("hf://owner/repo/model.safetensors", ("owner/repo", "model.safetensors", None)),
        (
            "hf://owner/repo/unet/diffusion_pytorch_model.safetensors@v1.0",
            ("owner/repo", "unet/diffusion_pytorch_model.safetensors", "v1.0"),
        ),
        ("hf://o/r/a@b/f.ckpt@abc1234", ("o/r", "a@b/f.ckpt", "abc1234")),
    ],
)
def test_parse_hf_ref(ref, expected):
    assert parse_hf_ref(ref) == expected


@pytest.mark.parametrize(
    "ref",
    ["owner/repo/file.safetensors", "hf://owner/repo", "hf://owner//file", "hf://o/r/f@"],
)
def test_malformed_refs_are_one_line_errors(ref):
    with pytest.raises(HubError) as e:
        parse_hf_ref(ref)
    assert ref in str(e.value) and "\n" not in str(e.value)


def test_is_hf_ref():
    assert is_hf_ref("hf://o/r/f.safetensors")
    assert not is_hf_ref("my_lora")


def _pulled(catalog, path, **provenance):
    path.write_bytes(b"\0" * 16)
    record = {
        "source": "huggingface",
        "repo": "o/r",
        "filename": "f.safetensors",
        "revision": "main",
        "commit": "c0ffee" + "0" * 34,
        "downloaded_at": "2026-01-01T00:00:00+00:00",
        **provenance,
    }
    return catalog.add_file(path, provenance=record)


def test_find_pulled_matches_repo_file_and_revision(catalog, tmp_path):
    main = _pulled(catalog, tmp_path / "a.safetensors")
    tagged = _pulled(catalog, tmp_path / "b.safetensors", revision="v2")

    assert find_pulled(catalog, "hf://o/r/f.safetensors").path == main.path
    assert find_pulled(catalog, "hf://o/r/f.safetensors@v2").path == tagged.path
    assert find_pulled(catalog, "hf://o/r/f.safetensors@c0ffee0").path in {main.path, tagged.path}
    assert find_pulled(catalog, "hf://o/r/f.safetensors@v3") is None
    assert find_pulled(catalog, "hf://o/r/other.safetensors") is None
    assert find_pulled(catalog, "hf://o/x/f.safetensors") is None


def test_find_pulled_prefers_the_latest_and_skips_deleted_files(catalog, tmp_path):
    old = _pulled(catalog, tmp_path / "old.safetensors", downloaded_at="2026-01-01T00:00:00+00:00")
    new = _pulled(catalog, tmp_path / "new.safetensors", downloaded_at="2026-02-01T00:00:00+00:00")

    assert find_pulled(catalog, "hf://o/r/f.safetensors").path == new.path
    new.path.unlink()
    assert find_pulled(catalog, "hf://o/r/f.safetensors").path == old.path


def test_files_without_hub_provenance_are_not_pulled(catalog, tmp_path):
    local = tmp_path / "f.safetensors"
    local.write_bytes(b"\0" * 16)
    catalog.add_file(local)

    assert find_pulled(catalog, "hf://o/r/f.safetensors") is None
