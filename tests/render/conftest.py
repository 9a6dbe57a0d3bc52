"""Fixtures: tiny models built once per test run; a Renderer on the CPU."""

from __future__ import annotations

import pytest

pytest.importorskip("diffusers")

from tests.render.models import build_all


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return build_all(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def renderer():
    from pantry.render import Renderer

    return Renderer(device="cpu", dtype="fp32")
