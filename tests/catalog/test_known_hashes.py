"""Hashing feeds identification: a known file is only told from its look-alikes by its hash."""

from __future__ import annotations

import hashlib

from pantry.identify import signatures
from pantry.identify.taxonomy import Base
from tests.fixtures.modelfiles import write_model


def test_hashing_a_known_vae_settles_its_base_and_fp16_fix(catalog, models, monkeypatch):
    path = write_model(models, "sdxl_vae", filename="renamed_vae.safetensors")
    with open(path, "rb") as handle:
        sha = hashlib.file_digest(handle, "sha256").hexdigest()
    known = signatures.KnownFile("sdxl-vae-fp16-fix (madebyollin)", "vae", Base.SDXL, True)
    monkeypatch.setitem(signatures.KNOWN_SHA256, sha, known)
    catalog.scan([models])
    before = catalog.resolve("renamed_vae")
    assert before.base == "unknown" and not before.identity.vae.fp16_fix

    catalog.hash(["renamed_vae"])

    after = catalog.resolve("renamed_vae")
    assert after.base == "sdxl"
    assert after.identity.vae.fp16_fix is True
    assert after.identity.vae.known_as.startswith("sdxl-vae-fp16-fix")
    assert any(e.source == "hash" for e in after.identity.evidence)


def test_hashing_keeps_user_overrides_on_top(catalog, models):
    write_model(models, "sd_vae", filename="my_vae.safetensors")
    catalog.scan([models])
    catalog.set_overrides("my_vae", {"base": "sd1"})

    catalog.hash(["my_vae"])

    assert catalog.resolve("my_vae").base == "sd1"
