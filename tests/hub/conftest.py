from __future__ import annotations

import os

import pytest

# huggingface_hub reads these when first imported; set them before any test imports it.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")

from tests.hub.fake_hub import FakeHub
from tests.hub.models import lora_file

REPO = "pantry-tests/tiny-lora"
LORA = "tiny_lora.safetensors"
NESTED = "extras/tiny_lora_v2.safetensors"


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    """A running fake Hub; HF_ENDPOINT points at it, no token, not offline."""
    fake = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", fake.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    # In case another test module imported huggingface_hub before the variables above.
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr("pantry.hub.download.RETRY_WAITS_S", (0.0,))
    yield fake
    fake.stop()


@pytest.fixture
def repo(fake_hub):
    """A repository with two LoRA files and a README; returns its first commit."""
    return fake_hub.add_repo(
        REPO,
        {LORA: lora_file(seed=1), NESTED: lora_file(seed=2), "README.md": b"# tiny\n"},
    )


@pytest.fixture
def catalog(tmp_path):
    from pantry import Catalog

    with Catalog.open(tmp_path / "catalog.db") as opened:
        yield opened


@pytest.fixture
def root(tmp_path):
    return tmp_path / "models"
