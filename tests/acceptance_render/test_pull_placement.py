"""Pulled files land in the folders of the UI the pantry root is laid out for."""

from __future__ import annotations

from click.testing import CliRunner

from pantry.cli import main
from pantry.hub import pull
from tests.hub.conftest import LORA, REPO


def test_a_lora_pulled_into_an_a1111_root_lands_in_its_lora_folder(
    fake_hub, repo, catalog, root, monkeypatch
):
    monkeypatch.setattr("pantry.hub.puller.identified_kind", lambda path: "lora")
    (root / "Lora").mkdir(parents=True)

    (result,) = pull(catalog, REPO, [LORA], root=root)

    assert result.asset.path == root / "Lora" / LORA
    assert not (root / "loras").exists()


def test_a_vae_pulled_into_an_a1111_root_lands_in_its_vae_folder(
    fake_hub, repo, catalog, root, monkeypatch
):
    monkeypatch.setattr("pantry.hub.puller.identified_kind", lambda path: "vae")
    (root / "VAE").mkdir(parents=True)

    (result,) = pull(catalog, REPO, [LORA], root=root)

    assert result.asset.path == root / "VAE" / LORA


def test_update_of_a_repository_nothing_was_pulled_from_says_so(fake_hub, repo, tmp_path):
    catalog_path = tmp_path / "catalog.db"
    result = CliRunner().invoke(
        main, ["pull", "--update", REPO, "--catalog", str(catalog_path), "-q"]
    )

    assert result.exit_code == 0, result.output
    assert f"nothing was pulled from {REPO}" in result.output
