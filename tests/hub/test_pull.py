"""Pulling files through the real huggingface_hub client from a local fake Hub."""

from __future__ import annotations

import errno
import hashlib
import shutil
from datetime import datetime

import pytest

from pantry.errors import HubError
from pantry.hub import (
    ALREADY_PULLED,
    DOWNLOADED,
    PARTIAL_DIR,
    UP_TO_DATE,
    UPDATED,
    HashMismatchError,
    default_root,
    find_pulled,
    list_model_files,
    pull,
    pull_ref,
    update_pulled,
)
from tests.hub.conftest import LORA, NESTED, REPO
from tests.hub.models import lora_file


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_listing_shows_model_files_with_size_and_hash(fake_hub, repo):
    commit, files = list_model_files(REPO)

    assert commit == repo
    assert [(f.filename, f.size, f.sha256) for f in files] == [
        (NESTED, len(lora_file(seed=2)), sha256(lora_file(seed=2))),
        (LORA, len(lora_file(seed=1)), sha256(lora_file(seed=1))),
    ]


def test_pull_downloads_into_the_root_and_catalogues_provenance(fake_hub, repo, catalog, root):
    (result,) = pull(catalog, REPO, [LORA], root=root)

    assert result.status == DOWNLOADED
    asset = result.asset
    assert asset.path.read_bytes() == lora_file(seed=1)
    assert asset.path.is_relative_to(root) and asset.path.name == LORA
    prov = asset.provenance
    assert {k: v for k, v in prov.items() if k != "downloaded_at"} == {
        "source": "huggingface",
        "repo": REPO,
        "revision": "main",
        "commit": repo,
        "filename": LORA,
        "size": len(lora_file(seed=1)),
        "lfs_sha256": sha256(lora_file(seed=1)),
        "endpoint": fake_hub.url,
    }
    assert datetime.fromisoformat(prov["downloaded_at"]).tzinfo is not None
    assert [a.path for a in catalog.find()] == [asset.path]
    assert not (root / PARTIAL_DIR).exists()


def test_pulled_file_arrives_with_every_hash(fake_hub, repo, catalog, root):
    (result,) = pull(catalog, REPO, [LORA], root=root)

    hashes = catalog.resolve(result.asset.id).hashes
    assert hashes["sha256"] == sha256(lora_file(seed=1))
    assert len(hashes["addnet"]) == 64 and len(hashes["a1111_legacy"]) == 8


def test_patterns_match_nested_paths_and_base_names(fake_hub, repo, catalog, root):
    results = pull(catalog, REPO, ["*_v2.safetensors"], root=root)

    assert [r.file.filename for r in results] == [NESTED]
    assert results[0].asset.path.read_bytes() == lora_file(seed=2)


def test_a_pattern_matching_nothing_is_a_one_line_error(fake_hub, repo, catalog, root):
    with pytest.raises(HubError, match=r"no model file of .* matches '\*\.ckpt'") as e:
        pull(catalog, REPO, ["*.ckpt"], root=root)
    assert "\n" not in str(e.value)


def test_pulling_the_same_content_again_downloads_nothing(fake_hub, repo, catalog, root):
    (first,) = pull(catalog, REPO, [LORA], root=root)
    gets_before = _gets(fake_hub)

    (again,) = pull(catalog, REPO, [LORA], root=root)

    assert again.status == ALREADY_PULLED
    assert again.asset.path == first.asset.path
    assert _gets(fake_hub) == gets_before


def test_a_cut_connection_resumes_on_the_next_call_with_a_range_request(
    fake_hub, repo, catalog, root
):
    cut = len(lora_file(seed=1)) // 2
    fake_hub.cut_after[LORA] = cut

    with pytest.raises(HubError, match=r"network lost .* run the same command again to resume"):
        pull(catalog, REPO, [LORA], root=root)
    (partial,) = (root / PARTIAL_DIR).iterdir()
    assert partial.stat().st_size == cut
    assert catalog.find() == []

    del fake_hub.cut_after[LORA]
    (result,) = pull(catalog, REPO, [LORA], root=root)

    assert fake_hub.range_requests(LORA)[-1] == f"bytes={cut}-"
    assert result.asset.path.read_bytes() == lora_file(seed=1)
    assert not partial.exists()


def test_a_server_ignoring_range_restarts_the_file_instead_of_appending(
    fake_hub, repo, catalog, root
):
    data = lora_file(seed=1)
    partial = root / PARTIAL_DIR / f"{sha256(data)}.safetensors.part"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data[:1000])  # what an interrupted earlier call left
    fake_hub.ignore_range = True

    (result,) = pull(catalog, REPO, [LORA], root=root)

    assert fake_hub.range_requests(LORA) == ["bytes=1000-"]
    assert result.asset.path.read_bytes() == data


def test_content_not_matching_the_announced_hash_is_rejected(fake_hub, repo, catalog, root):
    fake_hub.corrupt.add(LORA)
    announced = sha256(lora_file(seed=1))
    served = bytearray(lora_file(seed=1))
    served[0] ^= 0xFF

    with pytest.raises(HashMismatchError) as e:
        pull(catalog, REPO, [LORA], root=root)

    message = str(e.value)
    assert announced in message and sha256(bytes(served)) in message
    assert "\n" not in message
    assert catalog.find() == []
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_update_fetches_a_newer_commit_of_a_changed_file(fake_hub, repo, catalog, root):
    (first,) = pull(catalog, REPO, [LORA], root=root)
    newer = fake_hub.commit(REPO, {LORA: lora_file(seed=9)})

    (result,) = update_pulled(catalog)

    assert result.status == UPDATED
    assert result.asset.path == first.asset.path
    assert result.asset.path.read_bytes() == lora_file(seed=9)
    assert result.asset.provenance["commit"] == newer
    assert result.asset.provenance["lfs_sha256"] == sha256(lora_file(seed=9))
    assert len(catalog.find()) == 1


def test_update_leaves_unchanged_files_alone(fake_hub, repo, catalog, root):
    pull(catalog, REPO, [LORA], root=root)
    fake_hub.commit(REPO, {"README.md": b"# tiny, better documented\n"})
    gets_before = _gets(fake_hub)

    (result,) = update_pulled(catalog)

    assert result.status == UP_TO_DATE
    assert result.asset.provenance["commit"] == repo
    assert _gets(fake_hub) == gets_before


def test_pull_ref_downloads_then_finds_the_pulled_asset(fake_hub, repo, catalog, root):
    ref = f"hf://{REPO}/{NESTED}"

    pulled = pull_ref(catalog, ref, root=root)

    assert pulled.path.read_bytes() == lora_file(seed=2)
    assert find_pulled(catalog, ref).path == pulled.path


def test_pull_ref_at_a_revision_records_it(fake_hub, repo, catalog, root):
    fake_hub.commit(REPO, {LORA: lora_file(seed=5)})
    ref = f"hf://{REPO}/{LORA}@{repo[:10]}"

    pulled = pull_ref(catalog, ref, root=root)

    assert pulled.path.read_bytes() == lora_file(seed=1)
    assert pulled.provenance["revision"] == repo[:10]
    assert pulled.provenance["commit"] == repo


def test_offline_mode_returns_pulled_assets_and_refuses_the_rest(
    fake_hub, repo, catalog, root, monkeypatch
):
    pulled = pull_ref(catalog, f"hf://{REPO}/{LORA}", root=root)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    requests_before = len(fake_hub.requests)

    assert pull_ref(catalog, f"hf://{REPO}/{LORA}", root=root).path == pulled.path
    with pytest.raises(HubError, match="offline mode"):
        pull_ref(catalog, f"hf://{REPO}/{NESTED}", root=root)
    with pytest.raises(HubError, match="offline mode"):
        pull(catalog, REPO, [NESTED], root=root)
    assert len(fake_hub.requests) == requests_before


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c, r: pull(c, "nobody/nothing", ["*"], root=r),
            "repository nobody/nothing not found",
        ),
        (
            lambda c, r: pull(c, REPO, ["*"], revision="v9", root=r),
            f"revision 'v9' not found in {REPO}",
        ),
        (
            lambda c, r: pull_ref(c, f"hf://{REPO}/missing.safetensors", root=r),
            f"file 'missing.safetensors' not found in {REPO}",
        ),
    ],
    ids=["repo", "revision", "file"],
)
def test_not_found_errors_are_one_line(fake_hub, repo, catalog, root, call, message):
    with pytest.raises(HubError) as e:
        call(catalog, root)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_a_gated_repo_needs_a_token(fake_hub, catalog, root, monkeypatch):
    fake_hub.add_repo("gated/model", {LORA: lora_file(seed=3)}, token="hf_secret")

    with pytest.raises(HubError, match=r"gated/model is gated: .* set HF_TOKEN"):
        pull(catalog, "gated/model", [LORA], root=root)

    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    (result,) = pull(catalog, "gated/model", [LORA], root=root)
    assert result.asset.path.read_bytes() == lora_file(seed=3)


def test_too_little_disk_space_stops_before_downloading(fake_hub, repo, catalog, root, monkeypatch):
    real = shutil.disk_usage
    monkeypatch.setattr(
        "pantry.hub.download.shutil.disk_usage", lambda p: real(p)._replace(free=1000)
    )

    with pytest.raises(HubError, match="disk full"):
        pull(catalog, REPO, [LORA], root=root)
    assert _gets(fake_hub) == 0


def test_files_go_to_the_folder_of_their_identified_kind(
    fake_hub, repo, catalog, root, monkeypatch
):
    monkeypatch.setattr("pantry.hub.puller.identified_kind", lambda path: "vae")

    (result,) = pull(catalog, REPO, [LORA], root=root)

    assert result.asset.path == root / "vae" / LORA


def test_unidentified_files_go_to_other(fake_hub, repo, catalog, root, monkeypatch):
    monkeypatch.setattr("pantry.hub.puller.identified_kind", lambda path: "unknown")

    (result,) = pull(catalog, REPO, [LORA], root=root)

    assert result.asset.path == root / "other" / LORA


def test_a_name_taken_by_another_file_is_not_overwritten(
    fake_hub, repo, catalog, root, monkeypatch
):
    monkeypatch.setattr("pantry.hub.puller.identified_kind", lambda path: "lora")
    mine = root / "loras" / LORA
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"the user's own file")

    (result,) = pull(catalog, REPO, [LORA], root=root)

    assert mine.read_bytes() == b"the user's own file"
    assert result.asset.path.parent == mine.parent and result.asset.path != mine


def test_a_kohya_lora_lands_in_loras(fake_hub, repo, catalog, root, tmp_path):
    from pantry.formats import read_header
    from pantry.identify import identify

    probe = tmp_path / "probe.safetensors"
    probe.write_bytes(lora_file())
    try:
        identify(read_header(probe))
    except NotImplementedError:
        pytest.skip("formats/identify not written yet")

    (result,) = pull(catalog, REPO, [LORA], root=root)

    assert result.asset.path == root / "loras" / LORA
    assert result.asset.kind == "lora"


def test_default_root_is_the_catalogs_first_root(catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("PANTRY_HOME", str(tmp_path / "home"))
    assert default_root(catalog) == tmp_path / "home" / "models"

    first = tmp_path / "first"
    first.mkdir()
    catalog.scan([str(first)])
    assert default_root(catalog) == first


def _gets(fake):
    return sum(1 for method, path, _ in fake.requests if method == "GET" and "/resolve/" in path)


def test_a_full_disk_mid_download_keeps_the_partial_and_says_so(
    fake_hub, repo, catalog, root, monkeypatch
):
    from pantry.hub import download

    real_append = download._PartialFile.append

    def append_until_full(self, out, chunk):
        if self.have > 100_000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_append(self, out, chunk)

    monkeypatch.setattr(download._PartialFile, "append", append_until_full)

    with pytest.raises(HubError, match=r"disk full while writing .* run the same command again"):
        pull(catalog, REPO, [LORA], root=root)
    (partial,) = (root / PARTIAL_DIR).iterdir()
    assert partial.stat().st_size > 100_000
    assert catalog.find() == []


def test_an_unreachable_hub_is_one_line(catalog, root, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")

    with pytest.raises(HubError, match=r"cannot reach http://127.0.0.1:9") as e:
        pull_ref(catalog, "hf://o/r/f.safetensors", root=root)
    assert "\n" not in str(e.value)


def test_a_root_that_cannot_be_written_is_one_line(fake_hub, repo, catalog, tmp_path):
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("a file where the root should be")

    with pytest.raises(HubError) as e:
        pull(catalog, REPO, [LORA], root=blocked)
    assert str(blocked) in str(e.value) and "\n" not in str(e.value)
