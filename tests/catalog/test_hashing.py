"""pantry.hashing: every hash in one read, checked against hashlib/blake3 computed directly."""

from __future__ import annotations

import hashlib
import os

import blake3
import pytest

from pantry import hashing
from pantry.catalog import asset
from pantry.hashing import Hasher, compute_hashes
from tests.fixtures.modelfiles import safetensors_header_bytes

MIB = 1024 * 1024


def _safetensors_with_random_data(path, data_size: int) -> tuple[bytes, int]:
    raw, _ = safetensors_header_bytes({"w": ("U8", (data_size,))}, {"ss_output_name": "x"})
    content = len(raw).to_bytes(8, "little") + raw + os.urandom(data_size)
    path.write_bytes(content)
    return content, 8 + len(raw)


def test_all_hashes_match_their_definitions(tmp_path):
    path = tmp_path / "lora.safetensors"
    content, data_offset = _safetensors_with_random_data(path, 3 * MIB + 12345)

    hashes = compute_hashes(path, blake3=True)

    assert hashes == {
        "sha256": hashlib.sha256(content).hexdigest(),
        "addnet": hashlib.sha256(content[data_offset:]).hexdigest(),
        "a1111_legacy": hashlib.sha256(content[MIB : MIB + 65536]).hexdigest()[:8],
        "blake3": blake3.blake3(content).hexdigest(),
    }


@pytest.mark.parametrize("chunk_size", [4096, 65536 + 1, 3 * MIB])
def test_chunk_boundaries_do_not_change_the_hashes(tmp_path, chunk_size):
    path = tmp_path / "lora.safetensors"
    content, data_offset = _safetensors_with_random_data(path, 2 * MIB)
    with Hasher(chunk_size=chunk_size) as hasher:
        hashes = hasher.hash_file(path)
    assert hashes["sha256"] == hashlib.sha256(content).hexdigest()
    assert hashes["addnet"] == hashlib.sha256(content[data_offset:]).hexdigest()
    assert hashes["a1111_legacy"] == hashlib.sha256(content[MIB : MIB + 65536]).hexdigest()[:8]


def test_one_hasher_serves_many_files(tmp_path):
    files = []
    for i in range(5):
        path = tmp_path / f"m{i}.ckpt"
        path.write_bytes(os.urandom(100_000 + i))
        files.append(path)
    with Hasher() as hasher:
        results = [hasher.hash_file(p) for p in files]
    assert [r["sha256"] for r in results] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    ]


def test_pickle_files_have_no_addnet_hash_and_small_files_no_legacy_hash(tmp_path):
    path = tmp_path / "old.ckpt"
    path.write_bytes(os.urandom(1000))
    assert set(compute_hashes(path)) == {"sha256"}


def test_progress_reports_every_byte(tmp_path):
    path = tmp_path / "m.bin"
    path.write_bytes(os.urandom(5 * MIB))
    seen = []
    with Hasher(chunk_size=MIB) as hasher:
        hasher.hash_file(path, progress=seen.append)
    assert sum(seen) == 5 * MIB


def test_hash_keys_are_the_catalog_asset_keys():
    assert (hashing.HASH_SHA256, hashing.HASH_ADDNET, hashing.HASH_LEGACY, hashing.HASH_BLAKE3) == (
        asset.HASH_SHA256,
        asset.HASH_ADDNET,
        asset.HASH_LEGACY,
        asset.HASH_BLAKE3,
    )
