"""Every CLI test runs in a throwaway home: its own catalog, no network, no stray files."""

import pytest


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    home = tmp_path / "pantry-home"
    monkeypatch.setenv("PANTRY_HOME", str(home))
    monkeypatch.delenv("PANTRY_DATABASE_URL", raising=False)
    monkeypatch.delenv("PANTRY_DEBUG", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)  # a command that writes next to the cwd writes here
    return home
