from __future__ import annotations

import pytest

from pantry import formats, identify
from pantry.catalog import Catalog
from tests.catalog import fakes
from tests.fixtures.modelfiles import write_safetensors


def _real_readers_work(tmp_path_factory) -> bool:
    probe = tmp_path_factory.mktemp("probe") / "probe.safetensors"
    write_safetensors(probe, {"w": ("F16", (2, 2))})
    try:
        identify.identify(formats.read_header(probe))
    except NotImplementedError:
        return False
    return True


@pytest.fixture(scope="session")
def real_readers(tmp_path_factory) -> bool:
    return _real_readers_work(tmp_path_factory)


@pytest.fixture(autouse=True)
def readers(real_readers, monkeypatch):
    """The real header reader and identify once they exist; the fakes until then."""
    if not real_readers:
        monkeypatch.setattr(formats, "read_header", fakes.fake_read_header)
        monkeypatch.setattr(identify, "identify", fakes.fake_identify)
    return real_readers


@pytest.fixture
def catalog(tmp_path):
    with Catalog.open(tmp_path / "catalog.db") as cat:
        yield cat


@pytest.fixture
def models(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    return folder
